"""The columnar view of export keys: one bytes object of key data plus numpy columns.

Export files hold up to 500,000 keys each and a big country publishes 1.4 M a fortnight, so the
writer, the reader and the matcher work on columns instead of one Python object per key. Optional
protobuf fields keep their presence in a boolean mask next to the value column (absent values are
stored as the protobuf default, 0); `rolling_period` is never optional here because the schema
gives it the default 144.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.errors import KeyFormatError

if TYPE_CHECKING:
    from tracewarn.protocol.gaen._exporttypes import ExportKey

__all__ = ["KEY_COLUMNS", "KeyArrays", "KeyColumns", "key_range_checks", "raise_first_bad_key"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

KEY_LENGTH = 16
DEFAULT_ROLLING_PERIOD = 144
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
MAX_TRANSMISSION_RISK_LEVEL = 8
MAX_REPORT_TYPE = 5  # ReportType.REVOKED, the last value of the closed proto2 enum

# The numpy columns beside `key_data`, shared with the matcher's `DiagnosisKeyBatch`.
KEY_COLUMNS = (
    "rolling_start",
    "rolling_period",
    "transmission_risk_level",
    "has_transmission_risk_level",
    "report_type",
    "has_report_type",
    "days_since_onset",
    "has_days_since_onset",
)


class KeyColumns(Protocol):
    """The columns `key_range_checks` reads: `KeyArrays` and the matcher's batch have them."""

    @property
    def rolling_period(self) -> IntArray: ...
    @property
    def transmission_risk_level(self) -> IntArray: ...
    @property
    def has_transmission_risk_level(self) -> BoolArray: ...
    @property
    def report_type(self) -> IntArray: ...
    @property
    def has_report_type(self) -> BoolArray: ...


def key_range_checks(keys: KeyColumns) -> list[tuple[BoolArray, str]]:
    """(bad-row mask, what is wrong) for the bounds every key is held to, written or matched."""
    return [
        (
            (keys.rolling_period < 1) | (keys.rolling_period > DEFAULT_ROLLING_PERIOD),
            "rolling_period outside 1..144",
        ),
        (
            keys.has_transmission_risk_level
            & (
                (keys.transmission_risk_level < 0)
                | (keys.transmission_risk_level > MAX_TRANSMISSION_RISK_LEVEL)
            ),
            "transmission_risk_level outside 0..8",
        ),
        (
            keys.has_report_type & ((keys.report_type < 0) | (keys.report_type > MAX_REPORT_TYPE)),
            "report_type outside the ReportType enum 0..5",
        ),
    ]


def raise_first_bad_key(checks: Iterable[tuple[BoolArray, str]], noun: str) -> None:
    """KeyFormatError naming the first row of the first failed check, e.g. "key 3: ..."."""
    for bad, what in checks:
        if bad.any():
            raise KeyFormatError(f"{noun} {int(np.argmax(bad))}: {what}")


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
        for name in KEY_COLUMNS:
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
        from tracewarn.protocol.gaen._exporttypes import ExportKey

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

    def slice(self, start: int, stop: int) -> KeyArrays:
        """Rows start..stop-1; the numpy columns are views, not copies."""
        if start <= 0 and stop >= len(self):
            return self
        return KeyArrays(
            key_data=self.key_data[KEY_LENGTH * start : KEY_LENGTH * stop],
            **{name: getattr(self, name)[start:stop] for name in KEY_COLUMNS},
        )

    def sorted_by_key(self) -> KeyArrays:
        """Rows sorted by key bytes (lexicographic), as the reference server writes them."""
        if len(self) == 0:
            return self
        words = self.key_matrix().view(">u8")
        order = np.argsort(words[:, 0])
        high = words[order, 0]
        if (high[1:] == high[:-1]).any():
            # Equal first halves (duplicates, or test data): sort on both halves.
            order = np.lexsort((words[:, 1], words[:, 0]))
        return self.take(order)

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
            **{name: np.concatenate([getattr(p, name) for p in chunks]) for name in KEY_COLUMNS},
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
        if len(key_data) != KEY_LENGTH * n:
            _raise_bad_key_length(seq)
        trl, has_trl = _optional_column(seq, "transmission_risk_level")
        rtype, has_rtype = _optional_column(seq, "report_type")
        dsos, has_dsos = _optional_column(seq, "days_since_onset_of_symptoms")
        return cls(
            key_data=key_data,
            rolling_start=_int_column(seq, "rolling_start_interval_number"),
            rolling_period=_int_column(seq, "rolling_period"),
            transmission_risk_level=trl,
            has_transmission_risk_level=has_trl,
            report_type=rtype,
            has_report_type=has_rtype,
            days_since_onset=dsos,
            has_days_since_onset=has_dsos,
        )

    def validate_for_export(self) -> None:
        """Raise KeyFormatError naming the first key a writer must not put in an export."""
        start, dsos = self.rolling_start, self.days_since_onset
        raise_first_bad_key(
            [
                (
                    (start < 0) | (start > INT32_MAX),
                    "rolling_start_interval_number outside 0..2^31-1 (an int32 on the wire)",
                ),
                *key_range_checks(self),
                (
                    self.has_days_since_onset & ((dsos < INT32_MIN) | (dsos > INT32_MAX)),
                    "days_since_onset_of_symptoms outside the sint32 range",
                ),
            ],
            "key",
        )


def _int_column(seq: Sequence[ExportKey], name: str) -> IntArray:
    try:
        return np.fromiter(map(attrgetter(name), seq), dtype=np.int64, count=len(seq))
    except (OverflowError, TypeError, ValueError):
        raise KeyFormatError(f"{name} must be an int that fits 64 bits") from None


def _optional_column(seq: Sequence[ExportKey], name: str) -> tuple[IntArray, BoolArray]:
    # float64 turns None into NaN in one C loop; valid values (int32 range) are exact in it.
    try:
        floats = np.fromiter(map(attrgetter(name), seq), dtype=np.float64, count=len(seq))
    except (OverflowError, TypeError, ValueError):
        raise KeyFormatError(f"{name} must be an int or None") from None
    present = ~np.isnan(floats)
    inside = np.abs(np.where(present, floats, 0.0)) < 2.0**62
    if not inside.all() or not np.array_equal(floats[present], np.floor(floats[present])):
        raise KeyFormatError(f"{name} must be an int of at most 62 bits or None")
    return np.where(present, floats, 0.0).astype(np.int64), present


def _raise_bad_key_length(seq: Sequence[ExportKey]) -> None:
    for index, key in enumerate(seq):
        if len(key.key_data) != KEY_LENGTH:
            raise KeyFormatError(f"key {index}: key_data is {len(key.key_data)} bytes, not 16")
