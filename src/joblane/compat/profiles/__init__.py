"""One module per profile, each with a `PROFILE` (see `joblane.compat.registry.BUILTIN`)."""
