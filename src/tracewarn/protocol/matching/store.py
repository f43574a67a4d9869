"""The observation store: every Bluetooth sighting a device recorded, as contiguous columns.

Theory of operation. A sighting is one scan that saw one rolling proximity identifier (RPI):
the 16-byte RPI, the 4-byte encrypted metadata (AEM) that came with it, when it was seen (unix
seconds, UTC), the strongest and the typical RSSI of the scan (dBm, already corrected for the
receiver's calibration) and the seconds since the previous scan. A source that already knows
the attenuation (the simulator's radio model) may give attenuations instead of RSSI; the TX
power in the AEM is then used only for the calibration confidence.

The store keeps these as numpy columns sorted by the RPI's first 8 bytes (`rpi_hi`, read as a
little-endian uint64; `rpi_lo` holds the other 8), so all sightings of one RPI are adjacent and
a bulk lookup is one `searchsorted`. In front of it sit two bitmaps of 2^b bits each, a Bloom
filter split in two: bitmap A is indexed by the top b bits of the RPI's bytes 0-3, bitmap B by
those of bytes 8-11. A derived RPI whose bit in A is clear cannot be in the store; the few that
pass A are checked against B. b gives about 16 bits per sighting but at most 2^24 bits (2 MiB)
per bitmap, because measured here a random gather from a 2 MiB table costs about 2 ns and from
a 16 MiB one about 30 ns (it no longer fits the caches and the TLB). With one million sightings
each bitmap is 6 % full, so A rejects 94 % of the 14 M probes of a national key set and A and B
together 99.7 %. A sighting takes 44 bytes; one million take about 48 MB with the bitmaps.

`observer` numbers the device that made each sighting. On a phone it is always 0; a simulator
may keep all its virtual devices' sightings in one store, so each published key is derived once
for all of them (measured in bench/matching.py). It is an index into the simulator's own
arrays, never an identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.errors import MatchingInputError
from tracewarn.protocol.gaen.keys import INTERVAL_SECONDS

__all__ = ["NO_ATTENUATION", "ObservationStore"]

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I16 = npt.NDArray[np.int16]
U8 = npt.NDArray[np.uint8]

NO_ATTENUATION = -1
"""Marks a sighting whose attenuation is derived from the AEM's TX power and the RSSI."""

MAX_TIME = 253_402_300_799
"""9999-12-31 23:59:59 UTC: sightings are dated, and Python dates end there."""
MAX_SCAN_GAP_SECONDS = 86_400
_MIN_BITS = 10
_MAX_BITS = 24
_BITS_PER_SIGHTING = 16


@dataclass(frozen=True, eq=False)
class ObservationStore:
    """Sightings sorted by RPI; build it with `from_arrays` (which validates and sorts)."""

    rpi_hi: U64
    rpi_lo: U64
    aem: U32
    time: I64
    rssi: I16
    typical_rssi: I16
    attenuation: I16
    typical_attenuation: I16
    seconds_since_last_scan: I32
    observer: I32
    bitmap_a: U8
    bitmap_b: U8
    bitmap_bits: int

    def __len__(self) -> int:
        return int(self.rpi_hi.shape[0])

    @property
    def nbytes(self) -> int:
        """Memory held by the columns and the bitmap."""
        return sum(getattr(self, name).nbytes for name in (*_COLUMNS, "bitmap_a", "bitmap_b"))

    @property
    def interval_range(self) -> tuple[int, int] | None:
        """First and last ENIN with a sighting, or None for an empty store."""
        if len(self) == 0:
            return None
        return int(self.time.min()) // INTERVAL_SECONDS, int(self.time.max()) // INTERVAL_SECONDS

    def rpi(self, index: int) -> bytes:
        return _rpi_bytes(self.rpi_hi[index : index + 1], self.rpi_lo[index : index + 1])

    def aem_bytes(self, index: int) -> bytes:
        return self.aem[index : index + 1].astype("<u4").tobytes()

    @classmethod
    def empty(cls) -> ObservationStore:
        return cls.from_arrays(np.zeros((0, 16), np.uint8), np.zeros((0, 4), np.uint8), [], [])

    @classmethod
    def from_arrays(
        cls,
        rpi: bytes | npt.ArrayLike,
        aem: bytes | npt.ArrayLike,
        time: npt.ArrayLike,
        rssi: npt.ArrayLike | None,
        *,
        typical_rssi: npt.ArrayLike | None = None,
        attenuation: npt.ArrayLike | None = None,
        typical_attenuation: npt.ArrayLike | None = None,
        seconds_since_last_scan: npt.ArrayLike | None = None,
        observer: npt.ArrayLike | None = None,
    ) -> ObservationStore:
        """Validate, sort and index sightings given as columns.

        `rpi` is n * 16 bytes or an (n, 16) uint8 array, `aem` n * 4 bytes or (n, 4); `time` is
        unix seconds. Give `rssi` (dBm, -128..127), or `attenuation` (dB, 0..255) where known;
        an attenuation of `NO_ATTENUATION` (-1) falls back to the RSSI. Typical values default
        to the minimum ones; `seconds_since_last_scan` defaults to 0 (unknown). `observer` (default
        0) numbers the device that made the sighting: a real device has one, a simulator can put
        all its virtual devices' sightings in one store and match every key once for all.
        """
        rpis = _byte_matrix(rpi, 16, "rpi")
        n = rpis.shape[0]
        aems = _byte_matrix(aem, 4, "aem")
        if aems.shape[0] != n:
            raise MatchingInputError(f"{aems.shape[0]} AEMs for {n} RPIs")
        times = _column(time, n, "time", 0, MAX_TIME, np.int64)
        if rssi is None and attenuation is None:
            raise MatchingInputError("each sighting needs an RSSI or an attenuation")
        rssi_col = _column(rssi, n, "rssi", -128, 127, np.int16, default=0)
        att = _column(attenuation, n, "attenuation", -1, 255, np.int16, default=NO_ATTENUATION)
        if rssi is None and bool((att == NO_ATTENUATION).any()):
            raise MatchingInputError("a sighting has neither an RSSI nor an attenuation")
        typical = (
            rssi_col.copy()
            if typical_rssi is None
            else _column(typical_rssi, n, "typical_rssi", -128, 127, np.int16)
        )
        typical_att = (
            att.copy()
            if typical_attenuation is None
            else _column(typical_attenuation, n, "typical_attenuation", -1, 255, np.int16)
        )
        gap = _column(
            seconds_since_last_scan,
            n,
            "seconds_since_last_scan",
            0,
            MAX_SCAN_GAP_SECONDS,
            np.int32,
            default=0,
        )
        who = _column(observer, n, "observer", 0, 2**31 - 1, np.int32, default=0)
        words = np.ascontiguousarray(rpis).view("<u8")
        hi = words[:, 0].astype(np.uint64)
        lo = words[:, 1].astype(np.uint64)
        # Sorting on (hi, lo, time) keeps the order reproducible whatever order the input had.
        order = np.lexsort((times, lo, hi))
        hi, lo = hi[order], lo[order]
        bits = _bitmap_bits(n)
        return cls(
            rpi_hi=hi,
            rpi_lo=lo,
            aem=np.ascontiguousarray(aems).view("<u4")[:, 0].astype(np.uint32)[order],
            time=times[order],
            rssi=rssi_col[order],
            typical_rssi=typical[order],
            attenuation=att[order],
            typical_attenuation=typical_att[order],
            seconds_since_last_scan=gap[order],
            observer=who[order],
            bitmap_a=_build_bitmap(hi & np.uint64(0xFFFFFFFF), bits),
            bitmap_b=_build_bitmap(lo & np.uint64(0xFFFFFFFF), bits),
            bitmap_bits=bits,
        )

    @classmethod
    def concat(cls, stores: list[ObservationStore]) -> ObservationStore:
        """One store holding the sightings of all `stores` (re-sorted and re-indexed)."""
        if not stores:
            return cls.empty()
        rpis = np.concatenate(
            [np.stack([s.rpi_hi, s.rpi_lo], axis=1).astype("<u8").view(np.uint8) for s in stores]
        )
        cols = {name: np.concatenate([getattr(s, name) for s in stores]) for name in _COLUMNS}
        return cls.from_arrays(
            rpis,
            cols["aem"].astype("<u4").view(np.uint8).reshape(-1, 4),
            cols["time"],
            cols["rssi"],
            typical_rssi=cols["typical_rssi"],
            attenuation=cols["attenuation"],
            typical_attenuation=cols["typical_attenuation"],
            seconds_since_last_scan=cols["seconds_since_last_scan"],
            observer=cols["observer"],
        )


_COLUMNS = (
    "rpi_hi",
    "rpi_lo",
    "aem",
    "time",
    "rssi",
    "typical_rssi",
    "attenuation",
    "typical_attenuation",
    "seconds_since_last_scan",
    "observer",
)


def _rpi_bytes(hi: U64, lo: U64) -> bytes:
    return np.stack([hi, lo], axis=1).astype("<u8").tobytes()


def _bitmap_bits(n: int) -> int:
    wanted = max(n, 1) * _BITS_PER_SIGHTING
    return min(max(int(wanted - 1).bit_length(), _MIN_BITS), _MAX_BITS)


_S = TypeVar("_S", bound=np.generic)
_BIT = np.array([1 << k for k in range(8)], dtype=np.uint8)


def bitmap_test(bitmap: U8, words: npt.NDArray[np.uint32], bits: int) -> npt.NDArray[np.uint8]:
    """Non-zero where the bit of each 4-byte word (its top `bits` bits) is set in `bitmap`."""
    shift = np.uint32(32 - bits)
    index = words >> shift
    return np.take(bitmap, index >> np.uint32(3)) & np.take(_BIT, index & np.uint32(7))


def _build_bitmap(words: U64, bits: int) -> U8:
    bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
    index = words.astype(np.uint32) >> np.uint32(32 - bits)
    np.bitwise_or.at(bitmap, index >> np.uint32(3), np.take(_BIT, index & np.uint32(7)))
    return bitmap


def _byte_matrix(data: bytes | npt.ArrayLike, width: int, name: str) -> U8:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) % width:
            raise MatchingInputError(f"{name} bytes are not a multiple of {width}")
        return np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)
    array = np.asarray(data)
    if array.ndim != 2 or array.shape[1] != width or (array.size and array.dtype != np.uint8):
        raise MatchingInputError(f"{name} must be an (n, {width}) uint8 array, each {width} bytes")
    return array.astype(np.uint8, copy=False)


def _column(
    values: npt.ArrayLike | None,
    n: int,
    name: str,
    low: int,
    high: int,
    dtype: type[_S],
    *,
    default: int | None = None,
) -> npt.NDArray[_S]:
    if values is None:
        if default is None:
            raise MatchingInputError(f"{name} is required")
        return np.full(n, default, dtype=dtype)
    array = np.asarray(values)
    if array.shape != (n,):
        raise MatchingInputError(f"{name} must have one value per sighting ({n})")
    if array.size and array.dtype.kind not in "iu":
        raise MatchingInputError(f"{name} must be integers")
    if array.size and (int(array.min()) < low or int(array.max()) > high):
        raise MatchingInputError(f"{name} outside {low}..{high}")
    return array.astype(dtype)
