"""Export files to key batches: one file at a time, straight from its columnar key view.

A matcher fed from the CDN's daily files sees up to 500,000 keys per file; `read_export`
parses a file into columns and `DiagnosisKeyBatch.from_key_arrays` takes those columns as they
are, so no per-key Python object exists on the way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tracewarn.protocol.gaen.export import read_export
from tracewarn.protocol.matching.batch import DiagnosisKeyBatch

__all__ = ["batch_from_export", "batches_from_exports"]


def batch_from_export(data: bytes) -> DiagnosisKeyBatch:
    """The keys of one export (zip or bare export.bin, as `gaen.export.read_export` accepts).

    Signatures are not checked here (`gaen.export.verify_export` does that). Revised keys
    (ENF's `revised_keys`) are not merged: see docs/matching.md.
    """
    return DiagnosisKeyBatch.from_key_arrays(read_export(data).key_arrays())


def batches_from_exports(files: Iterable[bytes]) -> Iterator[DiagnosisKeyBatch]:
    """One batch per export file, parsed lazily as the matcher asks for it."""
    for data in files:
        yield batch_from_export(data)
