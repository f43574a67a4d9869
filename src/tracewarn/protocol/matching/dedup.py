"""Counting each diagnosis key once across export files.

A backend publishes the same keys more than once: CWA-style servers cut an hourly package per
hour and a daily package holding that day's hours again, and a person who uploads twice
republishes keys. Matching a key twice doubles its sightings, so a day matched together with
its hours would count every exposure twice and inflate the risk (CWA risk calculation sums
minutes per day). A key is identified by its key data and rolling start interval number (GAEN
export file format, `TemporaryExposureKey` fields 1 and 3): the same 16 bytes with another start
is another key. The first copy of a key is kept; revised keys (field 8) replace a key by design
and are handled by `exports.match_exports`, not here.

`KeySet` remembers the identities seen so far without one Python object per key: identities are
24-byte rows (key data, then the start as big-endian uint64, so byte order is the sort order)
in sorted numpy runs, merged like a log-structured merge tree, so n keys over many files cost
O(n log n) and 24 bytes each.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.gaen._keyarrays import KEY_LENGTH
from tracewarn.protocol.matching.batch import DiagnosisKeyBatch

__all__ = ["KeySet", "key_identities"]

_ID = np.dtype((np.void, KEY_LENGTH + 8))


def key_identities(batch: DiagnosisKeyBatch) -> npt.NDArray[np.void]:
    """One 24-byte identity per key of `batch` (key data + big-endian rolling start)."""
    n = len(batch)
    rows = np.empty((n, KEY_LENGTH + 8), dtype=np.uint8)
    rows[:, :KEY_LENGTH] = np.frombuffer(batch.key_data, dtype=np.uint8).reshape(n, KEY_LENGTH)
    starts = batch.rolling_start.astype(">u8")
    rows[:, KEY_LENGTH:] = starts.view(np.uint8).reshape(n, 8)
    return np.ascontiguousarray(rows).view(_ID).reshape(n)


class KeySet:
    """The keys seen so far; `new_keys` passes on only the keys not seen before."""

    def __init__(self) -> None:
        self._runs: list[npt.NDArray[np.void]] = []  # sorted, sizes decreasing (LSM levels)
        self.duplicates = 0

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def new_keys(self, batch: DiagnosisKeyBatch) -> DiagnosisKeyBatch:
        """The keys of `batch` seen neither earlier in it nor in any batch before, in order."""
        if len(batch) == 0:
            return batch
        ids = key_identities(batch)
        unique, first = np.unique(ids, return_index=True)
        keep = np.ones(len(unique), dtype=np.bool_)
        for run in self._runs:
            at = np.searchsorted(run, unique)
            inside = at < len(run)
            seen = np.zeros(len(unique), dtype=np.bool_)
            seen[inside] = run[at[inside]] == unique[inside]
            keep &= ~seen
        fresh = unique[keep]
        self.duplicates += len(batch) - len(fresh)
        if len(fresh) == len(batch):
            self._add(fresh)
            return batch
        self._add(fresh)
        return batch.select(np.sort(first[keep]))

    def _add(self, sorted_ids: npt.NDArray[np.void]) -> None:
        if len(sorted_ids) == 0:
            return
        self._runs.append(sorted_ids)
        while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
            top = self._runs.pop()
            self._runs[-1] = np.sort(np.concatenate([self._runs[-1], top]))
