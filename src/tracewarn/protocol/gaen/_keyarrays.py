"""The columnar view of export keys: one bytes object of key data plus numpy columns.

Export files hold up to 500,000 keys each and a big country publishes 1.4 M a fortnight, so the
writer, the reader and the matcher work on columns instead of one Python object per key. Optional
protobuf fields keep their presence in a boolean mask next to the value column (absent values are
stored as the protobuf default, 0); `rolling_period` is never optional here because the schema
gives it the default 144.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.errors import KeyFormatError

if TYPE_CHECKING:
    from tracewarn.protocol.gaen.export import ExportKey

__all__ = ["KeyArrays"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

KEY_LENGTH = 16
DEFAULT_ROLLING_PERIOD = 144
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
MAX_TRANSMISSION_RISK_LEVEL = 8
MAX_REPORT_TYPE = 5  # ReportType.REVOKED, the last value of the closed proto2 enum


@dataclass(frozen=True, eq=False)
class KeyArrays:
    """Keys of one export as columns; row i of every column belongs to key i.

    `key_data` is n*16 bytes (key i is `key_data[16*i:16*i+16]`). The integer columns are int64
    numpy arrays of length n. `transmission_risk_level`, `report_type` and `days_since_onset`
    are 0 where absent; their `has_*` masks say which keys carry the field. `rolling_period`
    already has the protobuf default 144 applied.
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
        n = len(self)
        if len(self.key_data) != KEY_LENGTH * n:
            raise KeyFormatError(f"key_data is {len(self.key_data)} bytes, expected {n} x 16")
        for name in (
            "rolling_start",
            "rolling_period",
            "transmission_risk_level",
            "has_transmission_risk_level",
            "report_type",
            "has_report_type",
            "days_since_onset",
            "has_days_since_onset",
        ):
            column = getattr(self, name)
            if column.shape != (n,):
                raise KeyFormatError(f"column {name} has shape {column.shape}, expected ({n},)")

    def __len__(self) -> int:
        return int(self.rolling_start.shape[0])

    def key_matrix(self) -> npt.NDArray[np.uint8]:
        """The key data as an (n, 16) uint8 array sharing memory with `key_data`."""
        return np.frombuffer(self.key_data, dtype=np.uint8).reshape(len(self), KEY_LENGTH)

    def key(self, index: int) -> ExportKey:
        """Key `index` as an `ExportKey` (absent optional fields become None)."""
        from tracewarn.protocol.gaen.export import ExportKey

        i = int(index)
        return ExportKey(
            key_data=self.key_data[KEY_LENGTH * i : KEY_LENGTH * i + KEY_LENGTH],
            rolling_start_interval_number=int(self.rolling_start[i]),
            rolling_period=int(self.rolling_period[i]),
            transmission_risk_level=(
                int(self.transmission_risk_level[i])
                if self.has_transmission_risk_level[i]
                else None
            ),
            report_type=int(self.report_type[i]) if self.has_report_type[i] else None,
            days_since_onset_of_symptoms=(
                int(self.days_since_onset[i]) if self.has_days_since_onset[i] else None
            ),
        )

    def __iter__(self) -> Iterator[ExportKey]:
        return (self.key(i) for i in range(len(self)))

    def take(self, indices: npt.ArrayLike) -> KeyArrays:
        """The rows at `indices`, in that order (used to sort and to split into files)."""
        idx = np.asarray(indices, dtype=np.int64)
        return KeyArrays(
            key_data=self.key_matrix()[idx].tobytes(),
            rolling_start=self.rolling_start[idx],
            rolling_period=self.rolling_period[idx],
            transmission_risk_level=self.transmission_risk_level[idx],
            has_transmission_risk_level=self.has_transmission_risk_level[idx],
            report_type=self.report_type[idx],
            has_report_type=self.has_report_type[idx],
            days_since_onset=self.days_since_onset[idx],
            has_days_since_onset=self.has_days_since_onset[idx],
        )

    def sorted_by_key(self) -> KeyArrays:
        """Rows sorted by key bytes (lexicographic), as the reference server writes them."""
        if len(self) == 0:
            return self
        words = self.key_matrix().view(">u8")
        # lexsort sorts by the last column first: high 8 bytes, then the low 8 bytes.
        return self.take(np.lexsort((words[:, 1], words[:, 0])))

    @classmethod
    def empty(cls) -> KeyArrays:
        return cls.from_keys(())

    @classmethod
    def concat(cls, parts: Iterable[KeyArrays]) -> KeyArrays:
        chunks = list(parts)
        if not chunks:
            return cls.empty()
        return cls(
            key_data=b"".join(p.key_data for p in chunks),
            **{name: np.concatenate([getattr(p, name) for p in chunks]) for name in _COLUMN_NAMES},
        )

    @classmethod
    def from_keys(cls, keys: Iterable[ExportKey]) -> KeyArrays:
        """Columns of `keys`, with one pass of attribute reads per column (no per-key objects)."""
        seq = keys if isinstance(keys, list | tuple) else list(keys)
        n = len(seq)
        try:
            key_data = b"".join([k.key_data for k in seq])
        except TypeError:
            raise KeyFormatError("key_data must be bytes") from None
        trl = [k.transmission_risk_level for k in seq]
        rtype = [k.report_type for k in seq]
        dsos = [k.days_since_onset_of_symptoms for k in seq]
        arrays = cls(
            key_data=key_data if len(key_data) == KEY_LENGTH * n else _bad_key_length(seq),
            rolling_start=_int_column([k.rolling_start_interval_number for k in seq]),
            rolling_period=_int_column([k.rolling_period for k in seq]),
            transmission_risk_level=_int_column([0 if v is None else v for v in trl]),
            has_transmission_risk_level=np.array([v is not None for v in trl], dtype=np.bool_),
            report_type=_int_column([0 if v is None else v for v in rtype]),
            has_report_type=np.array([v is not None for v in rtype], dtype=np.bool_),
            days_since_onset=_int_column([0 if v is None else v for v in dsos]),
            has_days_since_onset=np.array([v is not None for v in dsos], dtype=np.bool_),
        )
        return arrays

    def validate_for_export(self) -> None:
        """Raise KeyFormatError naming the first key a writer must not put in an export."""
        checks: list[tuple[BoolArray, str]] = [
            (
                (self.rolling_start < 0) | (self.rolling_start > INT32_MAX),
                "rolling_start_interval_number outside 0..2^31-1 (an int32 on the wire)",
            ),
            (
                (self.rolling_period < 1) | (self.rolling_period > DEFAULT_ROLLING_PERIOD),
                "rolling_period outside 1..144",
            ),
            (
                self.has_transmission_risk_level
                & (
                    (self.transmission_risk_level < 0)
                    | (self.transmission_risk_level > MAX_TRANSMISSION_RISK_LEVEL)
                ),
                "transmission_risk_level outside 0..8",
            ),
            (
                self.has_report_type
                & ((self.report_type < 0) | (self.report_type > MAX_REPORT_TYPE)),
                "report_type outside the ReportType enum 0..5",
            ),
            (
                self.has_days_since_onset
                & ((self.days_since_onset < INT32_MIN) | (self.days_since_onset > INT32_MAX)),
                "days_since_onset_of_symptoms outside the sint32 range",
            ),
        ]
        for bad, what in checks:
            if bad.any():
                index = int(np.argmax(bad))
                raise KeyFormatError(f"key {index}: {what}")


_COLUMN_NAMES = (
    "rolling_start",
    "rolling_period",
    "transmission_risk_level",
    "has_transmission_risk_level",
    "report_type",
    "has_report_type",
    "days_since_onset",
    "has_days_since_onset",
)


def _int_column(values: list[int]) -> IntArray:
    try:
        return np.array(values, dtype=np.int64)
    except (OverflowError, TypeError, ValueError):
        raise KeyFormatError("an integer key field is not an int or does not fit 64 bits") from None


def _bad_key_length(seq: list[ExportKey] | tuple[ExportKey, ...]) -> bytes:
    for index, key in enumerate(seq):
        if len(key.key_data) != KEY_LENGTH:
            raise KeyFormatError(f"key {index}: key_data is {len(key.key_data)} bytes, not 16")
    raise AssertionError("unreachable: total length mismatched but every key is 16 bytes")
