"""The HTTP API (Starlette): routes, wire schemas, problem+json errors, auth."""
