"""Observation files: the sightings of a device as JSON lines or CSV (docs/matching.md).

Pure: bytes in, `ObservationStore` out, and back. One sighting per JSON object or CSV row:

| field | required | meaning |
|---|---|---|
| `rpi` | yes | 32 hex digits |
| `aem` | yes | 8 hex digits |
| `time` | yes | unix seconds (integer) or ISO 8601 with a UTC offset |
| `rssi` | one of rssi / attenuation | dBm, -128..127, already receiver-calibrated |
| `attenuation` | one of rssi / attenuation | dB, 0..255 (the AEM's TX power is then not used) |
| `typical_rssi`, `typical_attenuation` | no | default: the `rssi` / `attenuation` value |
| `seconds_since_last_scan` | no | 0..86400, default 0 (unknown) |
| `observer` | no | number of the observing device, default 0 (simulators; see `store`) |

CSV files start with a header row naming the columns (any order); empty cells are absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from tracewarn.protocol.errors import MatchingInputError
from tracewarn.protocol.matching.store import NO_ATTENUATION, ObservationStore

__all__ = ["dump_observations", "load_observations"]

FIELDS = (
    "rpi",
    "aem",
    "time",
    "rssi",
    "typical_rssi",
    "attenuation",
    "typical_attenuation",
    "seconds_since_last_scan",
    "observer",
)
_INT_FIELDS = FIELDS[3:]
MAX_LINE = 4096


def load_observations(data: bytes, file_format: str | None = None) -> ObservationStore:
    """Parse a JSON-lines or CSV observation file; `file_format` None guesses from the content."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MatchingInputError("observation file is not UTF-8 text") from None
    fmt = file_format or ("jsonl" if text.lstrip()[:1] in ("{", "[") else "csv")
    if fmt == "jsonl":
        rows = _jsonl_rows(text)
    elif fmt == "csv":
        rows = _csv_rows(text)
    else:
        raise MatchingInputError(f"unknown observation format {fmt!r} (jsonl or csv)")
    return _store(rows)


def dump_observations(store: ObservationStore, file_format: str = "jsonl") -> bytes:
    """Write a store as JSON lines or CSV, in store (RPI) order; `load_observations` reads it."""
    if file_format not in ("jsonl", "csv"):
        raise MatchingInputError(f"unknown observation format {file_format!r} (jsonl or csv)")
    rows = [_row(store, i) for i in range(len(store))]
    if file_format == "jsonl":
        return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows).encode()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _row(store: ObservationStore, i: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "rpi": store.rpi(i).hex(),
        "aem": store.aem_bytes(i).hex(),
        "time": int(store.time[i]),
    }
    if int(store.attenuation[i]) == NO_ATTENUATION:
        row["rssi"] = int(store.rssi[i])
        row["typical_rssi"] = int(store.typical_rssi[i])
    else:
        row["attenuation"] = int(store.attenuation[i])
        row["typical_attenuation"] = int(store.typical_attenuation[i])
    row["seconds_since_last_scan"] = int(store.seconds_since_last_scan[i])
    if int(store.observer[i]):
        row["observer"] = int(store.observer[i])
    return row


def _jsonl_rows(text: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            raise MatchingInputError(f"line {number}: longer than {MAX_LINE} characters")
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MatchingInputError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise MatchingInputError(f"line {number}: not a JSON object")
        yield number, row


def _csv_rows(text: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if not text.strip():
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        unknown = [name for name in header if name not in FIELDS]
        if unknown or not header:
            raise MatchingInputError(
                f"CSV header must name columns among {', '.join(FIELDS)}; got {header!r}"
            )
        for row in reader:
            if None in row:
                raise MatchingInputError(f"line {reader.line_num}: more cells than header columns")
            yield reader.line_num, {k: v for k, v in row.items() if v not in (None, "")}
    except csv.Error as exc:
        raise MatchingInputError(f"line {reader.line_num}: malformed CSV ({exc})") from None


def _store(rows: Iterator[tuple[int, Mapping[str, Any]]]) -> ObservationStore:
    rpis: list[bytes] = []
    aems: list[bytes] = []
    columns: dict[str, list[int]] = {name: [] for name in ("time", *_INT_FIELDS)}
    for number, row in rows:
        try:
            _parse_row(row, rpis, aems, columns)
        except MatchingInputError as exc:
            raise MatchingInputError(f"line {number}: {exc}") from None
    try:
        return ObservationStore.from_arrays(
            b"".join(rpis),
            b"".join(aems),
            np.array(columns["time"], dtype=np.int64),
            np.array(columns["rssi"], dtype=np.int64),
            typical_rssi=np.array(columns["typical_rssi"], dtype=np.int64),
            attenuation=np.array(columns["attenuation"], dtype=np.int64),
            typical_attenuation=np.array(columns["typical_attenuation"], dtype=np.int64),
            seconds_since_last_scan=np.array(columns["seconds_since_last_scan"], dtype=np.int64),
            observer=np.array(columns["observer"], dtype=np.int64),
        )
    except OverflowError:
        raise MatchingInputError("a number in the observation file is out of range") from None


def _parse_row(
    row: Mapping[str, Any], rpis: list[bytes], aems: list[bytes], columns: dict[str, list[int]]
) -> None:
    unknown = set(row) - set(FIELDS)
    if unknown:
        raise MatchingInputError(f"unknown field(s) {', '.join(sorted(unknown))}")
    rpi = _hex(row, "rpi", 16)
    aem = _hex(row, "aem", 4)
    time = _time(row.get("time"))
    values = {name: _int(row, name) for name in _INT_FIELDS}
    if values["rssi"] is None and values["attenuation"] is None:
        raise MatchingInputError("needs rssi or attenuation")
    rssi = values["rssi"] if values["rssi"] is not None else 0
    typical_rssi = values["typical_rssi"] if values["typical_rssi"] is not None else rssi
    attenuation = values["attenuation"] if values["attenuation"] is not None else NO_ATTENUATION
    typical_att = values["typical_attenuation"]
    if typical_att is None:
        typical_att = attenuation
    if (attenuation == NO_ATTENUATION) != (typical_att == NO_ATTENUATION):
        raise MatchingInputError("typical_attenuation needs attenuation, and the reverse")
    gap = values["seconds_since_last_scan"] or 0
    rpis.append(rpi)
    aems.append(aem)
    for name, value in (
        ("time", time),
        ("rssi", rssi),
        ("typical_rssi", typical_rssi),
        ("attenuation", attenuation),
        ("typical_attenuation", typical_att),
        ("seconds_since_last_scan", gap),
        ("observer", values["observer"] or 0),
    ):
        columns[name].append(value)


def _hex(row: Mapping[str, Any], name: str, size: int) -> bytes:
    value = row.get(name)
    if not isinstance(value, str):
        raise MatchingInputError(f"{name} must be a hex string")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise MatchingInputError(f"{name} is not hex") from None
    if len(raw) != size:
        raise MatchingInputError(f"{name} must be {size} bytes ({2 * size} hex digits)")
    return raw


def _int(row: Mapping[str, Any], name: str) -> int | None:
    value = row.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise MatchingInputError(f"{name} must be an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            raise MatchingInputError(f"{name} must be an integer") from None
    else:
        raise MatchingInputError(f"{name} must be an integer")
    if not -(2**31) <= number < 2**31:
        raise MatchingInputError(f"{name} is out of range")
    return number


def _time(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise MatchingInputError(f"time {value!r} is not unix seconds or ISO 8601") from None
        if moment.tzinfo is None:
            raise MatchingInputError(f"time {value!r} has no UTC offset")
        return int(moment.timestamp())
    raise MatchingInputError("time must be unix seconds or an ISO 8601 string")
