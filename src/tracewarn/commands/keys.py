"""`tracewarn keys`: derive rolling proximity identifiers (and AEMs) from a temporary exposure key.

The CLI is the edge: `generate` reads the clock and the OS random source and hands both to the
pure key schedule in `tracewarn.protocol.gaen`.
"""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer

from tracewarn.commands._common import parse_hex, print_json

keys_app = typer.Typer(
    help="GAEN temporary exposure keys: derive identifiers, make new keys.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(keys_app, name="keys")


@keys_app.command("derive")
def derive(
    tek_hex: Annotated[str, typer.Argument(metavar="TEK_HEX", help="The 16-byte TEK in hex.")],
    start: Annotated[
        int, typer.Option("--start", help="ENIntervalNumber of the first identifier.")
    ],
    count: Annotated[int, typer.Option("--count", help="Number of intervals, 1..144.")] = 144,
    metadata: Annotated[
        str | None,
        typer.Option("--metadata", help="4 Bluetooth metadata bytes in hex: also print AEMs."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the RPIs (and AEMs with --metadata) for intervals START..START+COUNT-1."""
    from tracewarn.protocol.gaen import aem_key, encrypt_metadata, rolling_proximity_identifiers

    tek = parse_hex(tek_hex, "TEK_HEX", 16)
    meta = None if metadata is None else parse_hex(metadata, "--metadata", 4)
    rpis = rolling_proximity_identifiers(tek, start, count)
    aemk = aem_key(tek) if meta is not None else None
    rows: list[dict[str, object]] = []
    for offset, rpi in enumerate(rpis):
        row: dict[str, object] = {"interval": start + offset, "rpi": rpi.hex()}
        if aemk is not None and meta is not None:
            row["aem"] = encrypt_metadata(aemk, rpi, meta).hex()
        rows.append(row)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        typer.echo(" ".join(str(value) for value in row.values()))


@keys_app.command("generate")
def generate(
    at: Annotated[
        int | None,
        typer.Option(
            "--at", help="Unix time the key is for (default: now); it starts at midnight."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Make a new TEK from the OS random source, valid for the UTC day of --at."""
    from tracewarn.protocol.gaen import TemporaryExposureKey

    moment = int(time.time()) if at is None else at
    key = TemporaryExposureKey.generate(os.urandom(16), moment)
    if as_json:
        print_json(
            {
                "key_data": key.key_data.hex(),
                "rolling_start_interval_number": key.rolling_start_interval_number,
                "rolling_period": key.rolling_period,
            }
        )
        return
    typer.echo(f"{key.key_data.hex()} {key.rolling_start_interval_number} {key.rolling_period}")
