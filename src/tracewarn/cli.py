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
from typing import Annotated

import typer
from typer._click import exceptions as click_errors

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
from tracewarn.commands._help import tidy, usage_message

app = typer.Typer(
    name="tracewarn",
    help="Privacy-preserving exposure notification: protocol tools, backend, devices, demo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"tracewarn {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Privacy-preserving exposure notification: protocol tools, backend, devices, demo."""


@app.command()
def version() -> None:
    """Print the tracewarn version."""
    typer.echo(__version__)


for module in (keys, export, match, risk, location, server, gateway, device, demo):
    module.register(app)
simulate_commands.register(app)  # population simulator (issue 13)


def command() -> typer.core.TyperGroup:
    """The click command tree of `app`, with help tidied (`commands._help`)."""
    tree = typer.main.get_command(app)
    tidy(tree)
    return tree  # type: ignore[return-value]


def main() -> None:
    try:
        # Not standalone: usage errors come back here as exceptions, to be printed as one line.
        code = command().main(prog_name="tracewarn", standalone_mode=False)
    except click_errors.NoArgsIsHelpError as exc:
        print(exc.ctx.get_help() if exc.ctx else exc, file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None
    except click_errors.UsageError as exc:
        print(f"tracewarn: error: {usage_message(exc)}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None
    except typer.Abort:
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as exc:
        # The one handler for every command (see the module docstring and
        # `commands._common.describe_error`).
        message, status = describe_error(exc), 2
        if message is None:
            if os.environ.get("TRACEWARN_DEBUG") == "1":
                raise
            message, status = (
                f"internal error ({type(exc).__name__}); this is a bug, please report it "
                "(TRACEWARN_DEBUG=1 shows the traceback)",
                1,
            )
        print(f"tracewarn: error: {message}", file=sys.stderr)  # noqa: T201 - the error channel
        raise SystemExit(status) from None
    raise SystemExit(code if isinstance(code, int) else 0)
