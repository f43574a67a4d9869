"""Diagnosis keys as columns: the matcher's input.

A large country publishes about 1.4 M keys a fortnight, so the matcher never holds one Python
object per key. A `DiagnosisKeyBatch` is one bytes object of n * 16 key bytes plus int64 numpy
columns; optional export fields (transmission risk level, report type, days since onset of
symptoms) keep their presence in a boolean mask beside the value column, the same layout the
export reader's `key_arrays()` produces, so an export file becomes a batch without copying keys
one by one. Validation is vectorised and happens once, when the batch is built: a key with a
wrong length, a rolling period outside 1..144 or an interval outside the 32-bit ENIN range is
rejected with `KeyFormatError` naming the first bad key, never skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.errors import KeyFormatError, MatchingInputError
from tracewarn.protocol.gaen._keyarrays import (
    DEFAULT_ROLLING_PERIOD,
    KEY_COLUMNS,
    KEY_LENGTH,
    key_range_checks,
    raise_first_bad_key,
)
from tracewarn.protocol.gaen.keys import MAX_INTERVAL

__all__ = ["DiagnosisKeyBatch", "KeyLike"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_OPTIONAL = ("transmission_risk_level", "report_type", "days_since_onset")


class KeyLike(Protocol):
    """Anything with a TEK's fields: `TemporaryExposureKey`, the export module's `ExportKey`."""

    @property
    def key_data(self) -> bytes: ...

    @property
    def rolling_start_interval_number(self) -> int: ...

    @property
    def rolling_period(self) -> int: ...


@dataclass(frozen=True, eq=False)
class DiagnosisKeyBatch:
    """Published diagnosis keys; row i of every column belongs to key i (`key_data[16i:16i+16]`).

    `transmission_risk_level`, `report_type` and `days_since_onset` hold 0 where the matching
    `has_*` mask is False (the field was absent in the export).
    """

    key_data: bytes
    rolling_start: IntArray
    rolling_period: IntArray
    transmission_risk_level: IntArray
    has_transmission_risk_level: BoolArray
    report_type: IntArray
    has_report_type: BoolArray
    days_since_onset: IntArray
    has_days_since_onset: BoolArray

    def __post_init__(self) -> None:
        if not isinstance(self.key_data, bytes):
            raise KeyFormatError("key_data must be one bytes object of n x 16 key bytes")
        n = len(self)
        if len(self.key_data) != KEY_LENGTH * n:
            raise KeyFormatError(
                f"key_data is {len(self.key_data)} bytes for {n} keys; each key is 16 bytes"
            )
        for name in KEY_COLUMNS:
            column = getattr(self, name)
            if not isinstance(column, np.ndarray) or column.shape != (n,):
                raise MatchingInputError(f"column {name} must be a numpy array of shape ({n},)")
        self._validate()

    def __len__(self) -> int:
        return int(self.rolling_start.shape[0])

    def _validate(self) -> None:
        # The export writer's bounds on the shared fields, and ENINs as the matcher derives them.
        start, period = self.rolling_start, self.rolling_period
        raise_first_bad_key(
            [
                (
                    (start < 0) | (start > MAX_INTERVAL),
                    "rolling_start_interval_number outside 0..2^32-1",
                ),
                *key_range_checks(self),
                (start + period - 1 > MAX_INTERVAL, "validity runs past ENIN 2^32-1"),
            ],
            "diagnosis key",
        )

    @classmethod
    def from_arrays(
        cls,
        key_data: bytes | npt.ArrayLike,
        rolling_start: npt.ArrayLike,
        rolling_period: npt.ArrayLike | None = None,
        *,
        transmission_risk_level: npt.ArrayLike | None = None,
        report_type: npt.ArrayLike | None = None,
        days_since_onset: npt.ArrayLike | None = None,
    ) -> DiagnosisKeyBatch:
        """A batch from columns; an omitted rolling period is 144, an omitted optional field absent.

        `key_data` is n * 16 bytes or an (n, 16) uint8 array.
        """
        data = _key_bytes(key_data)
        start = _int_array(rolling_start, "rolling_start")
        n = start.shape[0]
        period = (
            np.full(n, DEFAULT_ROLLING_PERIOD, dtype=np.int64)
            if rolling_period is None
            else _int_array(rolling_period, "rolling_period")
        )
        optional: dict[str, Any] = {}
        for name, values in zip(
            _OPTIONAL, (transmission_risk_level, report_type, days_since_onset), strict=True
        ):
            if values is None:
                optional[name] = np.zeros(n, dtype=np.int64)
                optional["has_" + name] = np.zeros(n, dtype=np.bool_)
            else:
                optional[name] = _int_array(values, name)
                optional["has_" + name] = np.ones(n, dtype=np.bool_)
        return cls(key_data=data, rolling_start=start, rolling_period=period, **optional)

    @classmethod
    def from_keys(cls, keys: Iterable[KeyLike]) -> DiagnosisKeyBatch:
        """A batch from key objects; optional fields are read when the objects have them."""
        seq = list(keys)
        parts = [k.key_data for k in seq]
        for index, part in enumerate(parts):
            if not isinstance(part, bytes) or len(part) != KEY_LENGTH:
                raise KeyFormatError(f"diagnosis key {index}: key_data is not 16 bytes")
        columns: dict[str, Any] = {}
        for name, attr in zip(
            _OPTIONAL,
            ("transmission_risk_level", "report_type", "days_since_onset_of_symptoms"),
            strict=True,
        ):
            values = [getattr(k, attr, None) for k in seq]
            columns[name] = _int_array([0 if v is None else v for v in values], name)
            columns["has_" + name] = np.array([v is not None for v in values], dtype=np.bool_)
        return cls(
            key_data=b"".join(parts),
            rolling_start=_int_array([k.rolling_start_interval_number for k in seq], "start"),
            rolling_period=_int_array([k.rolling_period for k in seq], "rolling_period"),
            **columns,
        )

    @classmethod
    def from_key_arrays(cls, arrays: Any) -> DiagnosisKeyBatch:
        """A batch from the export reader's columnar `key_arrays()` view (same column names)."""
        try:
            columns = {name: np.asarray(getattr(arrays, name)) for name in KEY_COLUMNS}
            key_data = bytes(arrays.key_data)
        except AttributeError as exc:
            raise MatchingInputError(f"not a columnar key view: {exc}") from None
        for name in KEY_COLUMNS:
            want = np.bool_ if name.startswith("has_") else np.int64
            columns[name] = columns[name].astype(want, copy=False)
        return cls(key_data=key_data, **columns)

    @classmethod
    def concat(cls, parts: Iterable[DiagnosisKeyBatch]) -> DiagnosisKeyBatch:
        chunks = list(parts)
        if not chunks:
            return cls.from_arrays(b"", np.zeros(0, dtype=np.int64))
        return cls(
            key_data=b"".join(p.key_data for p in chunks),
            **{name: np.concatenate([getattr(p, name) for p in chunks]) for name in KEY_COLUMNS},
        )

    def select(self, mask_or_index: npt.NDArray[Any]) -> DiagnosisKeyBatch:
        """The rows picked by a boolean mask or an index array, in that order."""
        idx = np.asarray(mask_or_index)
        if idx.dtype == np.bool_:
            idx = np.flatnonzero(idx)
        matrix = np.frombuffer(self.key_data, dtype=np.uint8).reshape(len(self), KEY_LENGTH)
        return DiagnosisKeyBatch(
            key_data=matrix[idx].tobytes(),
            **{name: getattr(self, name)[idx] for name in KEY_COLUMNS},
        )

    def chunks(self, size: int) -> Iterator[DiagnosisKeyBatch]:
        """Consecutive sub-batches of at most `size` keys (slices, validated once already)."""
        if size < 1:
            raise MatchingInputError("chunk size must be at least 1")
        n = len(self)
        if n <= size:
            yield self
            return
        for lo in range(0, n, size):
            hi = min(lo + size, n)
            yield _unchecked(
                self.key_data[KEY_LENGTH * lo : KEY_LENGTH * hi],
                {name: getattr(self, name)[lo:hi] for name in KEY_COLUMNS},
            )

    def key(self, index: int) -> bytes:
        return self.key_data[KEY_LENGTH * index : KEY_LENGTH * index + KEY_LENGTH]


def _unchecked(key_data: bytes, columns: dict[str, Any]) -> DiagnosisKeyBatch:
    # Slices of a validated batch are valid; skip the vectorised checks on the hot path.
    batch = object.__new__(DiagnosisKeyBatch)
    object.__setattr__(batch, "key_data", key_data)
    for name, value in columns.items():
        object.__setattr__(batch, name, value)
    return batch


def _key_bytes(key_data: bytes | npt.ArrayLike) -> bytes:
    if isinstance(key_data, bytes | bytearray | memoryview):
        return bytes(key_data)
    array = np.asarray(key_data)
    if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != KEY_LENGTH:
        raise KeyFormatError("key_data must be bytes or an (n, 16) uint8 array")
    return array.tobytes()


def _int_array(values: npt.ArrayLike, name: str) -> IntArray:
    try:
        array = np.asarray(values)
        if array.dtype.kind not in "iub" and array.size:
            raise TypeError(name)
        result = array.astype(np.int64, copy=False)
    except (OverflowError, TypeError, ValueError):
        raise MatchingInputError(f"{name} must be integers that fit 64 bits") from None
    if array.dtype.kind == "u" and array.size and array.max() > np.iinfo(np.int64).max:
        raise MatchingInputError(f"{name} holds values that do not fit 64 bits")
    if result.ndim != 1:
        raise MatchingInputError(f"{name} must be one-dimensional")
    return np.ascontiguousarray(result)
