"""Helpers shared by the CLI command modules."""

from __future__ import annotations

import binascii
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any


class BadInput(Exception):  # noqa: N818 - reads as what it is in `except BadInput`
    """Input the CLI cannot use (missing file, unreadable JSON); printed as one line, exit 2."""


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_bytes(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is not valid JSON: {exc}") from None


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=False) + "\n")


def parse_time(text: str | None, option: str) -> int | None:
    """Unix seconds of an ISO 8601 date-time given to `option`; without an offset it is UTC."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"{option} {text!r} is not an ISO 8601 date-time, e.g. 2026-11-29T10:15+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # documented: a time without offset is UTC
    return int(moment.timestamp())


def parse_hex(value: str, what: str, length: int) -> bytes:
    """Exactly `length` bytes given as hex digits (surrounding whitespace ignored)."""
    try:
        data = binascii.unhexlify(value.strip())
    except (binascii.Error, ValueError):
        raise BadInput(f"{what} must be hexadecimal, got {value!r}") from None
    if len(data) != length:
        raise BadInput(f"{what} must be {length} bytes ({2 * length} hex digits), got {len(data)}")
    return data
