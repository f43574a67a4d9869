"""The one `tracewarn` command. Each domain registers its subcommands from `tracewarn.commands`.

Bad input anywhere below is reported as one line on stderr with exit code 2, never a traceback:
every command lets `ProtocolError` (and `BadInput`) propagate to `main`, which prints it.
"""

from __future__ import annotations

import sys

import typer

from tracewarn import __version__
from tracewarn.commands import (
    demo,
    device,
    export,
    gateway,
    keys,
    location,
    match,
    risk,
    server,
)
from tracewarn.commands import simulate as simulate_commands
from tracewarn.commands._common import BadInput
from tracewarn.protocol.errors import ProtocolError

app = typer.Typer(
    name="tracewarn",
    help="Privacy-preserving exposure notification: protocol tools, backend, devices, demo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print the tracewarn version."""
    typer.echo(__version__)


for module in (keys, export, match, risk, location, server, gateway, device, demo):
    module.register(app)
simulate_commands.register(app)  # population simulator (issue 13)


def main() -> None:
    try:
        app()
    except (ProtocolError, BadInput) as exc:
        print(f"tracewarn: error: {exc}", file=sys.stderr)  # noqa: T201 - the CLI's error channel
        raise SystemExit(2) from None
