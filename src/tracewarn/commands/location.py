"""`tracewarn location`: create check-in posters, decode and scan check-in QR URLs.

`create` writes a printable PDF and PNG; `decode` shows what a URL carries without judging it;
`scan` applies the rules a device applies and exits 2 naming the failed rule. The seed of a new
code comes from `os.urandom` here, at the edge; the protocol itself never draws randomness.
"""

from __future__ import annotations

import datetime as dt
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracewarn.commands._common import BadInput, parse_time, print_json

if TYPE_CHECKING:
    from tracewarn.protocol.presence import DecodedCode

location_app = typer.Typer(
    help="Presence tracing: check-in QR codes and posters (CWA event-registration compatible).",
    no_args_is_help=True,
)


class PlaceType(StrEnum):
    """`LocationType` names as typed on the command line (a test keeps the two equal)."""

    permanent_other = "permanent-other"
    temporary_other = "temporary-other"
    permanent_retail = "permanent-retail"
    permanent_food_service = "permanent-food-service"
    permanent_craft = "permanent-craft"
    permanent_workplace = "permanent-workplace"
    permanent_educational_institution = "permanent-educational-institution"
    permanent_public_building = "permanent-public-building"
    temporary_cultural_event = "temporary-cultural-event"
    temporary_club_activity = "temporary-club-activity"
    temporary_private_event = "temporary-private-event"
    temporary_worship_service = "temporary-worship-service"
    train_coach = "train-coach"
    flight = "flight"
    bus = "bus"
    checkpoint = "checkpoint"


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(location_app, name="location")


def _date(text: str | None) -> dt.date:
    if text is None:
        raise BadInput("--date is required with --train, --flight and --bus")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"--date {text!r} is not an ISO date YYYY-MM-DD") from None


@location_app.command("create")
def create(
    out: Annotated[
        Path,
        typer.Option("--out", metavar="FILE.pdf", help="PDF to write; the PNG goes beside it."),
    ],
    description: Annotated[str, typer.Option(help="What people see on check-in (one line).")],
    address: Annotated[str, typer.Option(help="Where it is (one line).")],
    location_type: Annotated[
        PlaceType | None,
        typer.Option(
            "--type",
            metavar="TYPE",
            help="Required unless --train/--flight/--bus imply it. CWA's types "
            "(permanent-other, temporary-other, permanent-retail, permanent-food-service, "
            "permanent-craft, permanent-workplace, permanent-educational-institution, "
            "permanent-public-building, temporary-cultural-event, temporary-club-activity, "
            "temporary-private-event, temporary-worship-service) or ours (train-coach, flight, "
            "bus, checkpoint).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="Start (ISO date-time; no offset = UTC). For transport: departure."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(help="End (ISO date-time; no offset = UTC). For transport: arrival."),
    ] = None,
    train: Annotated[str | None, typer.Option(help="Train service, e.g. 'ICE 597'.")] = None,
    coach: Annotated[str | None, typer.Option(help="Coach number (with --train).")] = None,
    flight: Annotated[str | None, typer.Option(help="Flight number, e.g. 'LH 2024'.")] = None,
    cabin: Annotated[str, typer.Option(help="Cabin or section (with --flight).")] = "",
    bus: Annotated[str | None, typer.Option(help="Bus line.")] = None,
    vehicle: Annotated[str, typer.Option(help="Bus vehicle number (with --bus).")] = "",
    date: Annotated[str | None, typer.Option(help="Service date YYYY-MM-DD (transport).")] = None,
    default_length: Annotated[
        int | None, typer.Option("--default-length", help="Default check-in length in minutes.")
    ] = None,
    cwa_url: Annotated[
        bool,
        typer.Option(
            "--cwa-url",
            help="Print the code as https://e.coronawarn.app?v=1#... so Corona-Warn-App scans it.",
        ),
    ] = False,
    seed_hex: Annotated[
        str | None,
        typer.Option(help="16-byte seed as hex, for reproducible tests only; default random."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a check-in QR code and write a printable poster (PDF + PNG)."""
    from tracewarn.protocol.presence import (
        CWA_URL_PREFIX,
        TRACEWARN_URL_PREFIX,
        LocationType,
        TraceLocation,
        TransportDetails,
        build_qr_url,
        encode_qr_payload,
        location_id,
        location_id_hash,
        validate_location,
    )
    from tracewarn.web.poster import write_poster

    if out.suffix.lower() != ".pdf":
        raise BadInput(
            f"--out {out} must name a .pdf file (the poster is a PDF; a PNG goes beside)"
        )
    for detail, value, mode, given in (
        ("--coach", coach, "--train", train),
        ("--cabin", cabin, "--flight", flight),
        ("--vehicle", vehicle, "--bus", bus),
    ):
        if value and not given:
            raise BadInput(f"{detail} goes with {mode}; without {mode} it would be ignored")
    modes = [
        name for name, value in (("--train", train), ("--flight", flight), ("--bus", bus)) if value
    ]
    if len(modes) > 1:
        raise BadInput(f"use only one of {', '.join(modes)}")
    implied = {
        "--train": LocationType.TRAIN_COACH,
        "--flight": LocationType.FLIGHT,
        "--bus": LocationType.BUS,
    }
    kind = LocationType.from_name(location_type.value) if location_type else None
    if modes:
        wanted = implied[modes[0]]
        if kind is not None and kind is not wanted:
            raise BadInput(
                f"{modes[0]} makes a {wanted.name.lower()} code, not --type {location_type}"
            )
        kind = wanted
    if kind is None:
        raise BadInput("give --type, or --train/--flight/--bus")
    if kind.is_transport and not modes:
        raise BadInput(f"a {kind.name.lower()} code needs --train, --flight or --bus")
    if kind is LocationType.TRAIN_COACH and not coach:
        raise BadInput("--train needs --coach")

    transport = None
    if kind is LocationType.TRAIN_COACH:
        transport = TransportDetails(train or "", coach or "", _date(date))
    elif kind is LocationType.FLIGHT:
        transport = TransportDetails(flight or "", cabin, _date(date))
    elif kind is LocationType.BUS:
        transport = TransportDetails(bus or "", vehicle, _date(date))
    if kind is LocationType.CHECKPOINT and default_length is None:
        default_length = 15

    if out.is_dir():
        raise BadInput(f"--out {out} is a directory; give a file name such as {out / 'poster.pdf'}")
    if not out.parent.is_dir():
        raise BadInput(f"--out folder {out.parent} does not exist; create it first")
    if seed_hex is None:
        seed = os.urandom(16)
    else:
        try:
            seed = bytes.fromhex(seed_hex)
        except ValueError:
            raise BadInput("--seed-hex is not hexadecimal") from None
    start_ts = parse_time(start, "--start")
    end_ts = parse_time(end, "--end")
    if (start_ts is None) != (end_ts is None):
        raise BadInput("give both --start and --end, or neither")
    location = TraceLocation(
        description=description,
        address=address,
        type=kind,
        cryptographic_seed=seed,
        start_timestamp=start_ts or 0,
        end_timestamp=end_ts or 0,
        default_check_in_length_minutes=default_length,
        transport=transport,
    )
    payload = encode_qr_payload(validate_location(location))
    url = build_qr_url(payload, CWA_URL_PREFIX if cwa_url else TRACEWARN_URL_PREFIX)
    files = write_poster(location, url, out)
    made = {
        "url": url,
        "location_id_hash": location_id_hash(location_id(payload)).hex(),
        "pdf": str(files.pdf),
        "png": str(files.png),
    }
    if as_json:
        print_json(made)
        return
    for key, value in made.items():
        typer.echo(f"{key}: {value}")


def _decoded_json(code: DecodedCode) -> dict[str, Any]:
    loc = code.location
    return {
        "version": loc.version,
        "description": loc.description,
        "address": loc.address,
        "start_timestamp": loc.start_timestamp,
        "end_timestamp": loc.end_timestamp,
        "type": loc.type.wire_name,
        "default_check_in_length_minutes": loc.default_check_in_length_minutes,
        "location_id": code.location_id.hex(),
        "location_id_hash": code.location_id_hash.hex(),
    }


def _print_human(code: DecodedCode, *, validated: bool) -> None:
    from tracewarn.protocol.presence import timestamp_datetime

    loc = code.location
    rows = [
        ("form", f"{code.descriptor.name} URL, version {code.url_version}"),
        ("description", loc.description),
        ("address", loc.address),
        ("type", f"{loc.type.wire_name} (CWA apps see {loc.cwa_type.wire_name})"),
    ]
    if loc.transport is not None:
        date = loc.transport.service_date.isoformat() if loc.transport.service_date else "-"
        rows.append(("service", f"{loc.transport.service} / {loc.transport.unit or '-'} / {date}"))
    if loc.is_permanent:
        rows.append(("times", "permanent"))
    else:
        for name, ts in (("start", loc.start_timestamp), ("end", loc.end_timestamp)):
            rows.append((name, timestamp_datetime(ts, f"{name}_timestamp").isoformat()))
    length = loc.default_check_in_length_minutes
    rows.append(("default length", f"{length} min" if length else "not set"))
    rows.append(("seed", f"{len(loc.cryptographic_seed)} bytes"))
    rows.append(("location id", code.location_id.hex()))
    rows.append(("location id hash", code.location_id_hash.hex()))
    if validated:
        rows.insert(0, ("status", "valid: a device accepts this code"))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        typer.echo(f"{key.ljust(width)}  {value}")


@location_app.command("decode")
def decode(
    url: Annotated[str, typer.Argument(help="The scanned QR URL.")],
    as_json: JsonOption = False,
) -> None:
    """Decode a check-in QR URL without validating it."""
    from tracewarn.protocol.presence import decode_location_url

    if as_json:
        print_json(_decoded_json(decode_location_url(url)))
    else:
        _print_human(decode_location_url(url), validated=False)


@location_app.command("scan")
def scan(
    url: Annotated[str, typer.Argument(help="The scanned QR URL.")], as_json: JsonOption = False
) -> None:
    """Decode and validate like a device; an invalid code names the failed rule and exits 2."""
    from tracewarn.protocol.presence import scan_location_url

    code = scan_location_url(url)
    if as_json:
        print_json({"valid": True, **_decoded_json(code)})
    else:
        _print_human(code, validated=True)
