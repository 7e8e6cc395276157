"""Analytics queries answered with columns and rows (speaks the `toolkitapi` profile)."""
