"""The `joblane` command."""
