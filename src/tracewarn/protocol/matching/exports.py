"""Export files to key batches, and matching straight from export files with revised keys.

A matcher fed from the CDN's daily files sees up to 500,000 keys per file; `read_export`
parses a file into columns and `DiagnosisKeyBatch.from_key_arrays` takes those columns as they
are, so no per-key Python object exists on the way.

Revised keys (export field 8, ENF 1.7+) restate a key published before with new metadata, for
example a self-report later confirmed by a test, or REVOKED. `match_exports` honours them: the
primary keys stream through the matcher file by file while the (few) revised keys are collected;
these are then matched on their own, and for every key that has a revision the revised match
replaces the primary one (a REVOKED revision removes it). The last revision of a key wins.

A key published in more than one file (a daily package and its hours, or two uploads) is matched
once: primary keys pass through a `dedup.KeySet` (same key data and rolling start), and
`MatchStats.keys_duplicate` counts the copies left out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator

import numpy as np

from tracewarn.protocol.gaen.export import ExportFile, read_export
from tracewarn.protocol.matching.batch import DiagnosisKeyBatch
from tracewarn.protocol.matching.config import MatchingConfig
from tracewarn.protocol.matching.dedup import KeySet
from tracewarn.protocol.matching.engine import DEFAULT_CHUNK_SIZE, ChunkScanner, match_keys
from tracewarn.protocol.matching.results import MatchResult
from tracewarn.protocol.matching.store import ObservationStore

__all__ = ["batch_from_export", "batches_from_exports", "match_exports"]


def batch_from_export(data: bytes) -> DiagnosisKeyBatch:
    """The primary keys of one export (zip or bare export.bin, as `read_export` accepts).

    Signatures are not checked here (`gaen.export.verify_export` does that).
    """
    return DiagnosisKeyBatch.from_key_arrays(read_export(data).key_arrays())


def batches_from_exports(files: Iterable[bytes]) -> Iterator[DiagnosisKeyBatch]:
    """One batch of primary keys per export file, parsed lazily as the matcher asks for it."""
    for data in files:
        yield batch_from_export(data)


def match_exports(
    files: Iterable[bytes | ExportFile],
    store: ObservationStore,
    *,
    now: dt.datetime | int,
    config: MatchingConfig | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    scanner: ChunkScanner | None = None,
) -> MatchResult:
    """`match_keys` over export files, one at a time, with revised keys applied (see above).

    A file is its bytes, or the `ExportFile` a caller already has (from `verify_export`, so a
    verified file is not parsed a second time).
    """
    revised: list[DiagnosisKeyBatch] = []
    seen = KeySet()

    def primary() -> Iterator[DiagnosisKeyBatch]:
        for data in files:
            export = data if isinstance(data, ExportFile) else read_export(data)
            revisions = export.revised_key_arrays()
            if len(revisions):
                revised.append(DiagnosisKeyBatch.from_key_arrays(revisions))
            yield seen.new_keys(DiagnosisKeyBatch.from_key_arrays(export.key_arrays()))

    def run(keys: Iterable[DiagnosisKeyBatch]) -> MatchResult:
        return match_keys(
            keys, store, now=now, config=config, chunk_size=chunk_size, scanner=scanner
        )

    first = run(primary())
    first = dataclasses.replace(
        first, stats=dataclasses.replace(first.stats, keys_duplicate=seen.duplicates)
    )
    if not revised:
        return first
    latest = _latest_revisions(DiagnosisKeyBatch.concat(revised))
    second = run([latest])
    superseded = {latest.key(i) for i in range(len(latest))}
    kept = tuple(m for m in first.matches if m.key_data not in superseded)
    matches = kept + second.matches
    stats = dataclasses.replace(
        first.stats + second.stats,
        matched_keys=len({m.key_data for m in matches}),
        matched_sightings=sum(len(m.sightings) for m in matches),
    )
    return MatchResult(matches=matches, stats=stats)


def _latest_revisions(batch: DiagnosisKeyBatch) -> DiagnosisKeyBatch:
    last: dict[bytes, int] = {}
    for i in range(len(batch)):
        last[batch.key(i)] = i
    return batch.select(np.array(sorted(last.values()), dtype=np.int64))
