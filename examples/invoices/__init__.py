"""Invoice extraction with confidence (speaks the `docurift` profile)."""
