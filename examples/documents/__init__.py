"""Document batch processing (speaks the `wickson` profile): one job per file of a batch."""
