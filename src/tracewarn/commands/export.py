"""`tracewarn export`: inspect and sign GAEN key export files.

The CLI is the edge: it reads and writes files and takes padding randomness from the OS, and
hands bytes to `tracewarn.protocol.gaen`, which does neither. Exit codes: 0 done, 1 a signature
was checked and is invalid, 2 bad input.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from tracewarn.commands._common import BadInput, print_json, read_bytes, read_json

if TYPE_CHECKING:
    from tracewarn.protocol.gaen import ExportFile, ExportKey

export_app = typer.Typer(
    help="GAEN key export files: inspect, verify and sign.", no_args_is_help=True
)

# Publish-API report type names (GAEN reference key server [docs/specifications.md#gaen-server]) and their ReportType values.
_REPORT_TYPES = {
    "confirmed": 1,
    "likely": 2,
    "user-report": 3,
    "negative": 5,
}


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(export_app, name="export")


def _key_json(key: ExportKey) -> dict[str, Any]:
    return {
        "key_data": base64.b64encode(key.key_data).decode("ascii"),
        "transmission_risk_level": key.transmission_risk_level,
        "rolling_start_interval_number": key.rolling_start_interval_number,
        "rolling_period": key.rolling_period,
        "report_type": key.report_type,
        "days_since_onset_of_symptoms": key.days_since_onset_of_symptoms,
    }


def _write_inspect_json(export: ExportFile, valid: bool | None, out: TextIO) -> None:
    """The `--json` document, written key by key: a 1.4 M-key export never becomes one list of
    dicts or one string in memory. Same shape and indentation as `print_json` gives."""
    head = {
        "region": export.region,
        "batch_num": export.batch_num,
        "batch_size": export.batch_size,
        "start_timestamp": export.start_timestamp,
        "end_timestamp": export.end_timestamp,
        "signature_infos": [info.as_dict() for info in export.signature_infos],
        "signature_valid": valid,
        "key_count": export.key_count,
    }
    text = json.dumps(head, indent=2)
    out.write(text[: text.rindex("}")].rstrip() + ",\n")
    for name, keys in (("keys", export.iter_keys()), ("revised_keys", iter(export.revised_keys))):
        out.write(f'  "{name}": [')
        first = True
        for key in keys:
            item = json.dumps(_key_json(key), indent=2).replace("\n", "\n    ")
            out.write(("\n    " if first else ",\n    ") + item)
            first = False
        out.write("]" if first else "\n  ]")
        out.write(",\n" if name == "keys" else "\n")
    out.write("}\n")


def _utc(seconds: int) -> str:
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return "out of range"


@export_app.command("inspect")
def inspect(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="An export .zip or a bare export.bin.")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", metavar="PEM", help="Verify the signature with this key."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Show an export's header, signature status and keys."""
    from tracewarn.protocol.errors import InvalidSignature
    from tracewarn.protocol.gaen import ZipLimits, load_public_key, read_export, verify_export

    limits = ZipLimits()
    # Size first: a file over the limit is refused without being read into memory.
    export = read_export(read_bytes(file, limit=limits.max_zip_size), limits=limits)
    key = None if public_key is None else load_public_key(read_bytes(public_key))
    valid: bool | None = None
    problem = ""
    if key is not None and export.signatures:
        try:
            verify_export(export, key)
            valid = True
        except InvalidSignature as exc:
            valid, problem = False, str(exc)
    if as_json:
        _write_inspect_json(export, valid, sys.stdout)
    else:
        _print_text(export, valid, problem, has_key=key is not None)
    if valid is False:
        raise typer.Exit(1)


def _print_text(export: ExportFile, valid: bool | None, problem: str, *, has_key: bool) -> None:
    if not export.signatures:
        status = "no export.sig (bare export.bin)"
    elif not has_key:
        status = "not checked (give --public-key)"
    else:
        status = "VALID" if valid else f"INVALID: {problem}"
    lines = [
        f"region:     {export.region!r}",
        f"batch:      {export.batch_num} of {export.batch_size}",
        f"time range: {export.start_timestamp} .. {export.end_timestamp} "
        f"({_utc(export.start_timestamp)} .. {_utc(export.end_timestamp)})",
        f"keys:       {export.key_count}"
        + (
            f" (+ {len(export.revised_key_arrays())} revised)"
            if export.revised_key_arrays()
            else ""
        ),
        f"signature:  {status}",
    ]
    lines += [
        f"  signer:   key id {i.verification_key_id!r}, version {i.verification_key_version!r}, "
        f"algorithm {i.signature_algorithm}"
        for i in export.signature_infos
    ]
    typer.echo("\n".join(lines))


def _int(item: dict[str, Any], name: str, index: int, default: int | None = None) -> int | None:
    value = item.get(name, default)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise BadInput(f"key {index}: {name} must be an integer, got {value!r}")
    return value


def keys_from_publish_json(document: Any) -> list[ExportKey]:
    """Keys in the shape of the publish API's `temporaryExposureKeys` (export-example-keys.json)."""
    from tracewarn.protocol.errors import KeyFormatError
    from tracewarn.protocol.gaen import ExportKey

    items = document.get("temporaryExposureKeys") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise BadInput('KEYS.json must hold {"temporaryExposureKeys": [...]} or a list of keys')
    keys = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise BadInput(f"key {index}: needs a base64 'key' string")
        try:
            key_data = base64.b64decode(item["key"], validate=True)
        except (binascii.Error, ValueError):
            raise BadInput(f"key {index}: 'key' is not base64") from None
        report = item.get("reportType")
        if isinstance(report, str):
            if report not in _REPORT_TYPES:
                raise BadInput(f"key {index}: unknown reportType {report!r}")
            report = _REPORT_TYPES[report]
        try:
            keys.append(
                ExportKey(
                    key_data=key_data,
                    rolling_start_interval_number=_int(item, "rollingStartNumber", index) or 0,
                    rolling_period=_int(item, "rollingPeriod", index, 144) or 0,
                    transmission_risk_level=_int(item, "transmissionRisk", index),
                    report_type=_int({"reportType": report}, "reportType", index),
                    days_since_onset_of_symptoms=_int(item, "daysSinceOnsetOfSymptoms", index),
                )
            )
        except KeyFormatError as exc:
            raise KeyFormatError(f"key {index}: {exc}") from None
    return keys


@export_app.command("sign")
def sign(
    keys_file: Annotated[
        Path, typer.Argument(metavar="KEYS.json", help="Keys as in export-example-keys.json.")
    ],
    private_key: Annotated[
        Path, typer.Option("--private-key", metavar="PEM", help="ECDSA P-256 private key.")
    ],
    out: Annotated[Path, typer.Option("--out", metavar="FILE.zip", help="Where to write.")],
    region: Annotated[str, typer.Option("--region", help="Region of the keys.")] = "US",
    key_id: Annotated[
        str, typer.Option("--key-id", help="verification_key_id (the MCC for Apple).")
    ] = "310",
    key_version: Annotated[
        str, typer.Option("--key-version", help="verification_key_version.")
    ] = "v1",
    start_timestamp: Annotated[
        int | None,
        typer.Option(help="Start of the arrival window, Unix seconds (default: earliest key)."),
    ] = None,
    end_timestamp: Annotated[
        int | None,
        typer.Option(help="End of the arrival window, Unix seconds (default: latest key end)."),
    ] = None,
    pad: Annotated[
        bool,
        typer.Option(
            "--pad",
            help="Pad a small batch to 1000-1100 keys, as Google's reference key server does.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Write one signed export zip of the keys in KEYS.json."""
    from tracewarn.protocol.gaen import (
        INTERVAL_SECONDS,
        ExportPadding,
        ExportSigner,
        load_private_key,
        write_export_files,
    )

    keys = keys_from_publish_json(read_json(keys_file))
    signer = ExportSigner(load_private_key(read_bytes(private_key)), key_id, key_version)
    starts = [k.rolling_start_interval_number for k in keys]
    ends = [k.rolling_start_interval_number + k.rolling_period for k in keys]
    start = (
        start_timestamp
        if start_timestamp is not None
        else min(starts, default=0) * INTERVAL_SECONDS
    )
    end = end_timestamp if end_timestamp is not None else max(ends, default=0) * INTERVAL_SECONDS
    (data,) = write_export_files(
        keys,
        region=region,
        start_timestamp=start,
        end_timestamp=end,
        signers=[signer],
        max_keys_per_file=max(len(keys), 1100),  # one output file
        padding=ExportPadding() if pad else None,
        random_bytes=os.urandom,
    )
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise BadInput(f"cannot write {out}: {exc.strerror}") from None
    if as_json:
        print_json(
            {"out": str(out), "keys": len(keys), "padded": pad, "region": region,
             "keyId": key_id, "keyVersion": key_version}
        )  # fmt: skip
        return
    typer.echo(
        f"wrote {out}: {len(keys)} keys{' (padded)' if pad else ''}, region {region!r}, "
        f"signed by key id {key_id!r} version {key_version!r}"
    )
