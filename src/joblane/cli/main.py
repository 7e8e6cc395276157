"""`joblane` entry point: subcommand wiring only."""

from __future__ import annotations

import click

from joblane.cli.batch import batch
from joblane.cli.jobs import cancel, jobs, result, retry, status, submit, wait
from joblane.cli.keys import keys, tenants
from joblane.cli.run import api, migrate, serve, worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="joblane")
def cli() -> None:
    """Joblane: an async job service. Submit work over HTTP; poll or wait for the result."""


cli.add_command(serve)
cli.add_command(api)
cli.add_command(worker)
cli.add_command(migrate)
cli.add_command(keys)
cli.add_command(tenants)
cli.add_command(batch)
for command in (submit, status, wait, cancel, retry, result, jobs):
    cli.add_command(command)


def main() -> None:
    cli()
