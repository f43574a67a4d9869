"""Helpers shared by the CLI command modules, and the one place CLI errors become text.

`describe_error` is what `tracewarn.cli.main` calls for anything a command raised: it turns bad
input, configuration, filesystem and database errors into one line that says what to fix.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "BadInput",
    "describe_error",
    "parse_hex",
    "parse_time",
    "print_json",
    "read_bytes",
    "read_json",
]


class BadInput(Exception):  # noqa: N818 - reads as what it is in `except BadInput`
    """Input the CLI cannot use (missing file, unreadable JSON); printed as one line, exit 2."""


def read_bytes(path: Path, *, limit: int | None = None) -> bytes:
    """The file's bytes; with `limit`, a larger file is refused before it is read."""
    try:
        with path.open("rb") as handle:
            if limit is not None:
                size = os.fstat(handle.fileno()).st_size
                if size > limit:
                    raise BadInput(f"{path} is {size} bytes, over the {limit}-byte limit")
                # A file that grows while read (or a pipe) still stops one byte past the limit.
                data = handle.read(limit + 1)
                if len(data) > limit:
                    raise BadInput(f"{path} is over the {limit}-byte limit")
                return data
            return handle.read()
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


def describe_error(exc: BaseException) -> str | None:
    """One line (without the `tracewarn: error:` prefix) for an error the user can fix.

    None for anything else: that is a bug, reported by `main` without a traceback too but with a
    different exit code. Heavy libraries are looked up in `sys.modules` only, so this imports
    nothing a command did not already import.
    """
    from tracewarn.protocol.errors import ProtocolError

    if isinstance(exc, ProtocolError | BadInput):
        return str(exc)
    config_error = _loaded("tracewarn.server.settings", "ConfigError")
    if config_error is not None and isinstance(exc, config_error):
        return str(exc)
    pydantic_error = _loaded("pydantic", "ValidationError")
    if pydantic_error is not None and isinstance(exc, pydantic_error):
        return _settings_message(exc)
    sa_error = _loaded("sqlalchemy.exc", "SQLAlchemyError")
    if sa_error is not None and isinstance(exc, sa_error):
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()[0]
        return (
            f"database error: {reason}; check TRACEWARN_DATABASE_URL, that the database is "
            "running, and run `tracewarn server migrate`"
        )
    boto_error = _loaded("botocore.exceptions", "BotoCoreError")
    if boto_error is not None and isinstance(exc, boto_error):
        return f"S3 blob store: {exc}; check the AWS credentials and TRACEWARN_S3_* settings"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or type(exc).__name__}; check the path and its permissions"
    return None


def _loaded(module: str, name: str) -> type[BaseException] | None:
    found = getattr(sys.modules.get(module), name, None)
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


def _settings_message(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    first: dict[str, Any] = errors()[0] if callable(errors) and errors() else {}
    loc = [str(part) for part in first.get("loc", ())]
    title = getattr(exc, "title", "")
    if title in ("Settings", "") and loc:
        # Settings fields are environment variables: name the variable the operator set.
        where = "TRACEWARN_" + loc[0].upper()
    else:
        where = ".".join([title, *loc]) if loc else title
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"invalid {where}: {message}"
