"""The one `tracewarn` command. Each domain registers its subcommands from `tracewarn.commands`.

Bad input anywhere below is reported as one line on stderr with exit code 2, never a traceback:
every command lets its errors propagate to `main`, the one handler, which asks
`commands._common.describe_error` for a line saying what to fix (protocol errors, bad input,
configuration, filesystem and database errors). Anything else is a bug: one line too, exit 1,
and the traceback only with `TRACEWARN_DEBUG=1`.
"""

from __future__ import annotations

import os
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
from tracewarn.commands._common import describe_error

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
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:
        message, code = describe_error(exc), 2
        if message is None:
            if os.environ.get("TRACEWARN_DEBUG") == "1":
                raise
            message, code = (
                f"internal error ({type(exc).__name__}); this is a bug, please report it "
                "(TRACEWARN_DEBUG=1 shows the traceback)",
                1,
            )
        print(f"tracewarn: error: {message}", file=sys.stderr)  # noqa: T201 - the error channel
        raise SystemExit(code) from None
