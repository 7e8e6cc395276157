"""Transaction enrichment (speaks the `walkerst` profile): counts of received and processed
transactions as the job's progress."""
