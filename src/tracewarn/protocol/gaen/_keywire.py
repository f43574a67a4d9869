"""Vectorised protobuf wire coding of the repeated TemporaryExposureKey fields (GAEN export file format [docs/specifications.md#gaen-export]).

Why not the protobuf runtime for the keys: building 1.4 M sub-messages one `keys.add()` at a time
and reading them back one attribute at a time costs seconds, while the key records are tiny and
regular. Theory of operation:

* Encoding lays every key out in a fixed grid of byte slots (tag, length, key_data, then one
  tag + up-to-5-byte varint slot per optional field, in field-number order as protobuf writes
  them) with a mask of the slots in use; `grid[mask]` in row-major order is exactly the
  concatenation of the length-delimited records. Tests check the bytes are identical to the
  protobuf runtime's serialisation.
* Decoding gets the record boundaries from the protobuf runtime (the export parsed with the key
  fields declared as `bytes`, see `_rawexport`), then walks all records in lock-step, one field
  per step, with numpy. Anything unusual (multi-byte tags, groups, varints longer than 5 bytes,
  truncation, records over 127 bytes) sends just that record to the protobuf runtime, so the
  result is always the runtime's own proto2 semantics: last value wins, wrong wire types and
  unknown enum values are unknown fields, absent `rolling_period` is 144.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from google.protobuf.message import DecodeError

from tracewarn.protocol.errors import ExportFormatError
from tracewarn.protocol.gaen._keyarrays import (
    DEFAULT_ROLLING_PERIOD,
    KEY_LENGTH,
    MAX_REPORT_TYPE,
    IntArray,
    KeyArrays,
)
from tracewarn.protocol.proto import export_pb2

__all__ = ["decode_key_records", "encode_key_records"]

_U8 = npt.NDArray[np.uint8]
_CHUNK = 1 << 17  # keys per encoding step: bounds the temporary grid to a few MB
_VARINT_SLOT = 5  # int32 values >= 0 and zigzagged sint32 values fit 5 varint bytes
_FIELD_TAGS = (0x10, 0x18, 0x20, 0x28, 0x30)  # fields 2..6, wire type 0
_MAX_FAST_RECORD = 127  # the record length then fits one byte
_MAX_STEPS = 64  # a record of <= 127 bytes has at most 63 fields of >= 2 bytes


def _varint_length(values: IntArray) -> IntArray:
    length = np.ones(values.shape, dtype=np.int64)
    for k in range(1, _VARINT_SLOT):
        length += values >= (1 << (7 * k))
    return length


def _zigzag32(values: IntArray) -> IntArray:
    return np.where(values >= 0, values * 2, -values * 2 - 1)


def _encode_chunk(keys: KeyArrays, field_tag: int) -> bytes:
    n = len(keys)
    fields: list[tuple[int, npt.NDArray[np.bool_], IntArray]] = [
        (0x10, keys.has_transmission_risk_level, keys.transmission_risk_level),
        # The reference server omits a zero start and the default period; so do we.
        (0x18, keys.rolling_start != 0, keys.rolling_start),
        (0x20, keys.rolling_period != DEFAULT_ROLLING_PERIOD, keys.rolling_period),
        (0x28, keys.has_report_type, keys.report_type),
        (0x30, keys.has_days_since_onset, _zigzag32(keys.days_since_onset)),
    ]
    # Each field gets a slot as wide as its longest varint in this chunk, which keeps the grid
    # (and the mask compaction over it) narrow: most fields take one or two bytes.
    layout = []
    width = 2 + 2 + KEY_LENGTH
    for tag, present, values in fields:
        if not present.any():
            continue
        clean = np.where(present, values, 0)
        length = _varint_length(clean)
        slot = int(length.max())
        layout.append((tag, present, clean, length, slot, width))
        width += 1 + slot
    grid = np.zeros((n, width), dtype=np.uint8)
    mask = np.zeros((n, width), dtype=np.bool_)
    record_length = np.full(n, 2 + KEY_LENGTH, dtype=np.int64)
    grid[:, 0] = field_tag
    grid[:, 2] = 0x0A  # field 1 (key_data), wire type 2
    grid[:, 3] = KEY_LENGTH
    grid[:, 4 : 4 + KEY_LENGTH] = keys.key_matrix()
    mask[:, : 4 + KEY_LENGTH] = True
    for tag, present, clean, length, slot, col in layout:
        grid[:, col] = tag
        mask[:, col] = present
        for k in range(slot):
            more = (length > k + 1).astype(np.int64) << 7
            grid[:, col + 1 + k] = ((clean >> (7 * k)) & 0x7F) | more
            mask[:, col + 1 + k] = present & (length > k)
        record_length += present * (1 + length)
    grid[:, 1] = record_length  # <= 2 + 16 + 5 * 6 = 48, one varint byte
    return bytes(grid[mask].tobytes())


def encode_key_records(keys: KeyArrays, field_number: int) -> bytes:
    """Wire bytes of `keys` as repeated field `field_number` (7 keys, 8 revised_keys).

    Values must already be validated (`KeyArrays.validate_for_export`).
    """
    tag = (field_number << 3) | 2
    return b"".join(
        _encode_chunk(keys.slice(start, start + _CHUNK), tag)
        for start in range(0, len(keys), _CHUNK)
    )


_FIELDS = 7  # value rows 0..6 of _Columns.values, indexed by field number


class _Columns:
    def __init__(self, n: int) -> None:
        self.key_offset = np.full(n, -1, dtype=np.int64)
        self.key_length = np.zeros(n, dtype=np.int64)
        # Row = field number (2..6); rows 0 and 1 are unused so fields index directly.
        self.values = np.zeros((_FIELDS, n), dtype=np.int64)
        self.values[4] = DEFAULT_ROLLING_PERIOD
        self.present = np.zeros((_FIELDS, n), dtype=np.bool_)


_WIRE_FAST = np.array([True, True, True, False, False, True, False, False])
_FIXED_SIZE = np.array([0, 9, 0, 0, 0, 5, 0, 0])  # bytes a wire type 1/5 field takes with its tag


def _long_varints(
    buf: _U8, start: IntArray, available: IntArray
) -> tuple[IntArray, IntArray, npt.NDArray[np.bool_]]:
    """Values and lengths of varints of 2..5 bytes at `start`, and which are not (slow path)."""
    value = np.zeros(start.shape, dtype=np.int64)
    length = np.zeros(start.shape, dtype=np.int64)
    going = np.ones(start.shape, dtype=np.bool_)
    for k in range(_VARINT_SLOT):
        byte = buf[start + k].astype(np.int64)
        value |= np.where(going, (byte & 0x7F) << (7 * k), 0)
        length += going
        going &= byte >= 0x80
    return value, length, going | (length > available)


def _step(buf: _U8, pos: IntArray, end: IntArray, idx: IntArray, cols: _Columns) -> IntArray:
    """Decode one field of each record in `idx`; return the records that need the slow path."""
    p = pos[idx]
    available = end[idx] - p - 1  # bytes after the tag inside the record
    tag = buf[p].astype(np.int64)
    first = buf[p + 1].astype(np.int64)  # the varint's first byte, or the length byte
    wire = tag & 7
    field = tag >> 3
    is_varint = wire == 0
    is_bytes = wire == 2
    fixed = _FIXED_SIZE[wire]
    slow = (tag >= 0x80) | (field == 0) | ~_WIRE_FAST[wire] | (available < 1)
    slow |= is_bytes & ((first >= 0x80) | (first + 1 > available))
    slow |= (fixed > 0) & (fixed - 1 > available)
    value = first.copy()
    consumed = np.where(is_varint, 2, np.where(is_bytes, 2 + first, fixed))
    # Most varints are one byte; only the rest take the byte-by-byte path.
    long = np.flatnonzero(is_varint & (first >= 0x80) & ~slow)
    if long.size:
        long_value, long_length, long_slow = _long_varints(buf, p[long] + 1, available[long])
        value[long] = long_value
        consumed[long] = 1 + long_length
        slow[long] |= long_slow
    ok = ~slow
    rows, f, v, at = idx[ok], field[ok], value[ok], p[ok]
    keys = is_bytes[ok] & (f == 1)
    cols.key_offset[rows[keys]] = at[keys] + 2
    cols.key_length[rows[keys]] = v[keys]
    numbers = np.where(is_varint[ok] & (f >= 2) & (f <= 6), f, 0)
    low = v & 0xFFFFFFFF
    decoded = np.where(
        numbers == 6,  # sint32: zigzag
        np.where(low & 1, -(low >> 1) - 1, low >> 1),
        np.where(low >= 2**31, low - 2**32, low),  # int32 and enum: two's complement
    )
    # proto2 closed enum: an unknown ReportType value is an unknown field, not a value.
    numbers[(numbers == 5) & ((decoded < 0) | (decoded > MAX_REPORT_TYPE))] = 0
    keep = numbers > 0
    cols.values[numbers[keep], rows[keep]] = decoded[keep]
    cols.present[numbers[keep], rows[keep]] = True
    pos[rows] = at + consumed[ok]
    needs_runtime: IntArray = idx[slow]
    return needs_runtime


def _slow_record(record: bytes, index: int, cols: _Columns) -> bytes:
    try:
        message = export_pb2.TemporaryExposureKey.FromString(record)
    except DecodeError as exc:
        raise ExportFormatError(f"key {index}: malformed TemporaryExposureKey ({exc})") from None
    key = message.key_data
    cols.key_offset[index] = -2  # taken from `message`, see _gather_keys
    cols.key_length[index] = len(key)
    names = {
        2: "transmission_risk_level",
        3: "rolling_start_interval_number",
        4: "rolling_period",
        5: "report_type",
        6: "days_since_onset_of_symptoms",
    }
    for number, name in names.items():
        cols.values[number][index] = getattr(message, name)
        cols.present[number][index] = message.HasField(name)
    return key


def decode_key_records(records: Sequence[bytes], what: str = "key") -> KeyArrays:
    """KeyArrays of serialized TemporaryExposureKey messages; ExportFormatError if any is bad."""
    n = len(records)
    lengths = np.fromiter(map(len, records), dtype=np.int64, count=n)
    # Zero padding lets every window below read past the last record; `end` bounds the use.
    buf = np.frombuffer(b"".join(records) + bytes(KEY_LENGTH), dtype=np.uint8)
    end = np.cumsum(lengths)
    pos = end - lengths
    cols = _Columns(n)
    slow = lengths > _MAX_FAST_RECORD
    # Chunks bound the step temporaries (a dozen int64 columns) to a few MB.
    for first in range(0, n, _CHUNK):
        rows = np.arange(first, min(first + _CHUNK, n))
        active = rows[~slow[rows] & (lengths[rows] > 0)]
        for _ in range(_MAX_STEPS):
            if active.size == 0:
                break
            slow[_step(buf, pos, end, active, cols)] = True
            active = active[(pos[active] < end[active]) & ~slow[active]]
        else:
            slow[active] = True  # unreachable for records <= 127 bytes; the runtime decides
    slow_keys = {
        index: _slow_record(records[index], index, cols) for index in np.flatnonzero(slow).tolist()
    }
    bad = cols.key_length != KEY_LENGTH
    if bad.any():
        index = int(np.argmax(bad))
        raise ExportFormatError(
            f"{what} {index}: key_data is {int(cols.key_length[index])} bytes, not {KEY_LENGTH}"
        )
    offsets = np.where(cols.key_offset < 0, 0, cols.key_offset)
    # A window view gathers 16 bytes per key without an (n, 16) index array.
    matrix = np.lib.stride_tricks.sliding_window_view(buf, KEY_LENGTH)[offsets]
    for index, key in slow_keys.items():
        matrix[index] = np.frombuffer(key, dtype=np.uint8)
    arrays = KeyArrays(
        key_data=matrix.tobytes(),
        rolling_start=cols.values[3],
        rolling_period=cols.values[4],
        transmission_risk_level=cols.values[2],
        has_transmission_risk_level=cols.present[2],
        report_type=cols.values[5],
        has_report_type=cols.present[5],
        days_since_onset=cols.values[6],
        has_days_since_onset=cols.present[6],
    )
    _check_decoded(arrays, what)
    return arrays


def _check_decoded(arrays: KeyArrays, what: str) -> None:
    """Reject what no matcher can use: a start before 0 or a period outside 1..144."""
    bad_start = arrays.rolling_start < 0
    if bad_start.any():
        index = int(np.argmax(bad_start))
        raise ExportFormatError(
            f"{what} {index}: rolling_start_interval_number {int(arrays.rolling_start[index])} < 0"
        )
    bad_period = (arrays.rolling_period < 1) | (arrays.rolling_period > DEFAULT_ROLLING_PERIOD)
    if bad_period.any():
        index = int(np.argmax(bad_period))
        raise ExportFormatError(
            f"{what} {index}: rolling_period {int(arrays.rolling_period[index])} outside 1..144"
        )
