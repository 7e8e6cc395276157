"""`python -m joblane.cli`."""

from __future__ import annotations

from joblane.cli.main import main

main()
