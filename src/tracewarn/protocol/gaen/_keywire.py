"""Vectorised protobuf wire coding of the repeated TemporaryExposureKey fields (gaen.md §3.3).

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


def _varint_columns(values: IntArray) -> tuple[_U8, npt.NDArray[np.bool_]]:
    """(n, 5) varint bytes of non-negative values < 2^35 and the mask of bytes in use."""
    v = values.astype(np.uint64)
    shifts = np.arange(_VARINT_SLOT, dtype=np.uint64) * np.uint64(7)
    groups = (v[:, None] >> shifts) & np.uint64(0x7F)
    length = np.ones(v.shape, dtype=np.int64)
    for k in range(1, _VARINT_SLOT):
        length += v >= np.uint64(1 << (7 * k))
    used = np.arange(_VARINT_SLOT) < length[:, None]
    more = np.arange(_VARINT_SLOT) < (length - 1)[:, None]
    data = (groups | (more.astype(np.uint64) << np.uint64(7))).astype(np.uint8)
    return data, used


def _zigzag32(values: IntArray) -> IntArray:
    return np.where(values >= 0, values * 2, -values * 2 - 1)


def _encode_chunk(keys: KeyArrays, field_tag: int) -> bytes:
    n = len(keys)
    key_matrix = keys.key_matrix()
    fields: list[tuple[npt.NDArray[np.bool_], IntArray]] = [
        (keys.has_transmission_risk_level, keys.transmission_risk_level),
        # The reference server omits a zero start and the default period; so do we.
        (keys.rolling_start != 0, keys.rolling_start),
        (keys.rolling_period != DEFAULT_ROLLING_PERIOD, keys.rolling_period),
        (keys.has_report_type, keys.report_type),
        (keys.has_days_since_onset, _zigzag32(keys.days_since_onset)),
    ]
    width = 2 + 2 + KEY_LENGTH + len(fields) * (1 + _VARINT_SLOT)
    grid = np.zeros((n, width), dtype=np.uint8)
    mask = np.zeros((n, width), dtype=np.bool_)
    record_length = np.full(n, 2 + KEY_LENGTH, dtype=np.int64)
    grid[:, 0] = field_tag
    grid[:, 2] = 0x0A  # field 1 (key_data), wire type 2
    grid[:, 3] = KEY_LENGTH
    grid[:, 4 : 4 + KEY_LENGTH] = key_matrix
    mask[:, : 4 + KEY_LENGTH] = True
    col = 4 + KEY_LENGTH
    for tag, (present, values) in zip(_FIELD_TAGS, fields, strict=True):
        data, used = _varint_columns(np.where(present, values, 0))
        used &= present[:, None]
        grid[:, col] = tag
        mask[:, col] = present
        grid[:, col + 1 : col + 1 + _VARINT_SLOT] = data
        mask[:, col + 1 : col + 1 + _VARINT_SLOT] = used
        record_length += present + used.sum(axis=1)
        col += 1 + _VARINT_SLOT
    grid[:, 1] = record_length  # <= 2 + 16 + 5 * 6 = 48, one varint byte
    return bytes(grid[mask].tobytes())


def encode_key_records(keys: KeyArrays, field_number: int) -> bytes:
    """Wire bytes of `keys` as repeated field `field_number` (7 keys, 8 revised_keys).

    Values must already be validated (`KeyArrays.validate_for_export`).
    """
    tag = (field_number << 3) | 2
    parts = []
    for start in range(0, len(keys), _CHUNK):
        parts.append(
            _encode_chunk(keys.take(np.arange(start, min(start + _CHUNK, len(keys)))), tag)
        )
    return b"".join(parts)


def _int32(values: npt.NDArray[np.uint64]) -> IntArray:
    low = (values & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return np.where(low >= 2**31, low - 2**32, low)


def _sint32(values: npt.NDArray[np.uint64]) -> IntArray:
    low = (values & np.uint64(0xFFFFFFFF)).astype(np.int64)
    return np.where(low & 1, -(low >> 1) - 1, low >> 1)


class _Columns:
    def __init__(self, n: int) -> None:
        self.key_offset = np.full(n, -1, dtype=np.int64)
        self.key_length = np.zeros(n, dtype=np.int64)
        self.values = {f: np.zeros(n, dtype=np.int64) for f in (2, 3, 4, 5, 6)}
        self.values[4][:] = DEFAULT_ROLLING_PERIOD
        self.present = {f: np.zeros(n, dtype=np.bool_) for f in (2, 3, 4, 5, 6)}


def _step(buf: _U8, pos: IntArray, end: IntArray, idx: IntArray, cols: _Columns) -> IntArray:
    """Decode one field of each record in `idx`; return the records that need the slow path."""
    p = pos[idx]
    e = end[idx]
    last = buf.shape[0] - 1
    tag = buf[p].astype(np.int64)
    wire = tag & 7
    field = tag >> 3
    slow = (tag >= 0x80) | (field == 0) | ~np.isin(wire, (0, 1, 2, 5))
    # Varint value (wire type 0), at most 5 bytes on the fast path.
    value = np.zeros(idx.shape, dtype=np.uint64)
    vlen = np.zeros(idx.shape, dtype=np.int64)
    going = wire == 0
    for k in range(_VARINT_SLOT):
        at = p + 1 + k
        inside = at < e
        byte = buf[np.minimum(at, last)].astype(np.uint64)
        take = going & inside
        value |= np.where(take, (byte & np.uint64(0x7F)) << np.uint64(7 * k), np.uint64(0))
        vlen += take
        slow |= going & ~inside  # truncated varint: let the runtime report it
        going = take & (byte >= 0x80)
    slow |= going  # longer than 5 bytes
    # Length-delimited (wire type 2): a one-byte length on the fast path.
    length = buf[np.minimum(p + 1, last)].astype(np.int64)
    is_bytes = wire == 2
    slow |= is_bytes & ((p + 1 >= e) | (length >= 0x80) | (p + 2 + length > e))
    consumed = np.select(
        [wire == 0, wire == 1, wire == 2, wire == 5], [1 + vlen, 9, 2 + length, 5], default=1
    )
    slow |= (wire == 1) & (p + 9 > e)
    slow |= (wire == 5) & (p + 5 > e)
    ok = ~slow
    rows = idx[ok]
    w, f, v = wire[ok], field[ok], value[ok]
    sel = (f == 1) & (w == 2)
    cols.key_offset[rows[sel]] = (p + 2)[ok][sel]
    cols.key_length[rows[sel]] = length[ok][sel]
    for number in (2, 3, 4, 5, 6):
        sel = (f == number) & (w == 0)
        if not sel.any():
            continue
        decoded = _sint32(v[sel]) if number == 6 else _int32(v[sel])
        target = rows[sel]
        if number == 5:  # proto2 closed enum: an unknown value is an unknown field
            known = (decoded >= 0) & (decoded <= MAX_REPORT_TYPE)
            decoded, target = decoded[known], target[known]
        cols.values[number][target] = decoded
        cols.present[number][target] = True
    pos[rows] = p[ok] + consumed[ok]
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
    buf = np.frombuffer(b"".join(records) + b"\x00", dtype=np.uint8)
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
    windows = (
        np.lib.stride_tricks.sliding_window_view(buf, KEY_LENGTH)
        if buf.size >= KEY_LENGTH
        else np.zeros((1, KEY_LENGTH), dtype=np.uint8)
    )
    matrix = windows[offsets]
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
