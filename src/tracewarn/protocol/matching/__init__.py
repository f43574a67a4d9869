"""Exposure matching: diagnosis keys against a device's Bluetooth sightings (GAEN Cryptography Specification v1.2 [docs/specifications.md#gaen-crypto]).

Public API: build a `DiagnosisKeyBatch` (columnar keys) and an `ObservationStore` (columnar
sightings), call `match_keys(keys, store, now=...)`, read `MatchResult.matches` (per key and UTC
day) or `MatchResult.exposure_windows()` for risk scoring. Process-parallel matching
(`tracewarn.device.parallel_matching.ProcessMatcher`) plugs into `match_keys(scanner=...)`. See docs/matching.md.
"""

from tracewarn.protocol.matching.batch import DiagnosisKeyBatch, KeyLike
from tracewarn.protocol.matching.config import CWA_INFECTIOUSNESS_FOR_DSOS, MatchingConfig
from tracewarn.protocol.matching.dedup import KeySet, key_identities
from tracewarn.protocol.matching.engine import DEFAULT_CHUNK_SIZE, ChunkScanner, match_keys
from tracewarn.protocol.matching.exports import (
    batch_from_export,
    batches_from_exports,
    match_exports,
)
from tracewarn.protocol.matching.formats import dump_observations, load_observations
from tracewarn.protocol.matching.results import KeyDayMatch, MatchResult, MatchStats, Sighting
from tracewarn.protocol.matching.store import NO_ATTENUATION, ObservationStore

__all__ = [
    "CWA_INFECTIOUSNESS_FOR_DSOS",
    "DEFAULT_CHUNK_SIZE",
    "NO_ATTENUATION",
    "ChunkScanner",
    "DiagnosisKeyBatch",
    "KeyDayMatch",
    "KeyLike",
    "KeySet",
    "MatchResult",
    "MatchStats",
    "MatchingConfig",
    "ObservationStore",
    "Sighting",
    "batch_from_export",
    "batches_from_exports",
    "dump_observations",
    "key_identities",
    "load_observations",
    "match_exports",
    "match_keys",
]
