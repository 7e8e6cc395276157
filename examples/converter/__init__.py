"""JSON formatting with a downloadable file result (speaks the `apidatatools` profile)."""
