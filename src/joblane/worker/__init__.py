"""Worker runtime: claims jobs, runs handlers, reports progress and outcomes."""
