"""Example apps, one per seed API: each runs with one command (see examples/*/README.md)."""
