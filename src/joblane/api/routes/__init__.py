"""Route modules; each exposes `routes` (Starlette) and `operations` (OpenAPI)."""
