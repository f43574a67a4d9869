"""The scan step of one chunk: derive its RPIs, probe the store's bitmap, confirm, filter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.gaen.keys import INTERVAL_SECONDS
from tracewarn.protocol.matching._derive import RPIS_PER_KEY, RpiDeriver
from tracewarn.protocol.matching.store import ObservationStore, bitmap_test

__all__ = ["ChunkHits", "ChunkTask", "scan_chunk"]

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class ChunkTask:
    """The keys of one chunk that need deriving (picklable, for worker processes)."""

    key_data: bytes
    rolling_start: I64
    rolling_period: I64
    tolerance: int


@dataclass(frozen=True, eq=False)
class ChunkHits:
    """Confirmed sightings of a chunk: key row in the task, interval offset k, store row."""

    key: I64
    offset: I64
    obs: I64
    candidates: int


def scan_chunk(task: ChunkTask, store: ObservationStore, deriver: RpiDeriver) -> ChunkHits:
    """Derive the chunk's RPIs and join them against the store (see `engine` for the rules)."""
    n = int(task.rolling_start.shape[0])
    if n == 0 or len(store) == 0:
        return _no_hits()
    buffer = deriver.derive(task.key_data, task.rolling_start)
    words32 = np.frombuffer(buffer, dtype="<u4")
    bits = store.bitmap_bits
    probes = np.flatnonzero(bitmap_test(store.bitmap_a, words32[::4], bits))
    probes = probes[bitmap_test(store.bitmap_b, words32[4 * probes + 2], bits) != 0]
    if probes.size == 0:
        return _no_hits()
    words = np.frombuffer(buffer, dtype="<u8")
    hi = words[2 * probes]
    left = np.searchsorted(store.rpi_hi, hi, side="left")
    right = np.searchsorted(store.rpi_hi, hi, side="right")
    counts = right - left
    found = counts > 0
    if not found.any():
        return _empty_hits(int(probes.size))
    probes, left, counts = probes[found], left[found], counts[found]
    # Expand every probe to the run of store rows sharing its prefix (the same RPI seen in
    # several scans), then confirm on the low 8 bytes.
    owner = np.repeat(np.arange(probes.size), counts)
    run_start = np.cumsum(counts) - counts
    obs = left[owner] + (np.arange(owner.size) - run_start[owner])
    probe = probes[owner]
    same = store.rpi_lo[obs] == words[2 * probe + 1]
    probe, obs = probe[same], obs[same]
    key = probe // RPIS_PER_KEY
    offset = probe % RPIS_PER_KEY
    interval = task.rolling_start[key] + offset
    seen_interval = store.time[obs] // INTERVAL_SECONDS
    valid = (offset < task.rolling_period[key]) & (
        np.abs(seen_interval - interval) <= task.tolerance
    )
    return ChunkHits(
        key=key[valid].astype(np.int64),
        offset=offset[valid].astype(np.int64),
        obs=obs[valid].astype(np.int64),
        candidates=int(probes.size),
    )


def _no_hits() -> ChunkHits:
    return _empty_hits(0)


def _empty_hits(candidates: int) -> ChunkHits:
    empty = np.zeros(0, dtype=np.int64)
    return ChunkHits(key=empty, offset=empty, obs=empty, candidates=candidates)
