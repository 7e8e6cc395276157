"""Profiles: Joblane's jobs, batches and errors in another API's contract (docs/profiles.md).

`profile.py` is what a profile is, `registry.py` finds one by name, `mount.py` serves them
(under `/compat/<name>/`, and one at the root), `wire.py` holds the shared formatting helpers
(status vocabularies, timestamps, id formats) and `access.py` the reads profiles make through
the canonical services. Each profile is one module in `profiles/`.
"""
