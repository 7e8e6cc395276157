"""`python -m joblane`."""

from __future__ import annotations

from joblane.cli.main import main

main()
