"""`tracewarn demo`: for now the protocol showcase (see `_showcase`); the town demo replaces it.

`tracewarn showcase` runs the same showcase and stays when `demo` changes. This module is the
edge: it supplies the clock, the OS random source and a fresh signing key.
"""

from __future__ import annotations

import os
import time

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("demo")(demo)
    app.command("showcase", hidden=True)(showcase)


def showcase() -> None:
    """Walk one key through the protocol: derive, publish signed, download, verify, match."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from tracewarn.commands._showcase import run_showcase

    result = run_showcase(
        now=int(time.time()),
        random_bytes=os.urandom,
        signing_key=ec.generate_private_key(ec.SECP256R1()),
        echo=typer.echo,
    )
    if not (result.key_found and result.tampered_rejected):
        raise typer.Exit(1)


def demo() -> None:
    """Run the tracewarn demo (for now: the protocol showcase)."""
    showcase()
