"""The matcher: diagnosis keys x observation store -> key-day matches (GAEN Cryptography Specification v1.2 [docs/specifications.md#gaen-crypto]).

Theory of operation. Keys arrive as columnar batches and are cut into chunks of a few thousand.
Per chunk, vectorised over all keys at once: keys outside the retention window, REVOKED keys and
keys whose infectiousness maps to NONE are set aside (and counted), as are keys whose validity
+/- the tolerance cannot reach any sighting in the store. The rest go through the batched RPI
derivation (`_derive`), which writes 144 RPIs per key into one buffer, and a hash join against
the store (`_join`): the first 4 bytes of every RPI probe the store's bitmap, the few survivors
are looked up by their first 8 bytes with `searchsorted` and confirmed on all 16. A confirmed
RPI of interval j = rolling_start + k counts only when k < rolling_period (the key's validity)
and the sighting's own interval i satisfies |i - j| <= tolerance (+/- 2 h). Only then is the AEM
decrypted, once per matched RPI, for the TX power (attenuation = TX power - RSSI, clamped to
0..255) and the calibration confidence.

Chunks are independent, so the scan step is pluggable: `match_keys(..., scanner=...)` accepts any
function that turns an iterator of `ChunkTask`s into an iterator of `ChunkHits` in the same
order. `tracewarn.device.parallel_matching.ProcessMatcher` (outside this pure package) supplies one backed by worker processes; the result is the same
because everything after the scan (decryption, grouping, ordering) happens here, in input order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.errors import KeyFormatError, MatchingInputError
from tracewarn.protocol.exposure_window import Infectiousness, ReportType
from tracewarn.protocol.gaen.keys import INTERVAL_SECONDS, BluetoothMetadata, decrypt_metadata
from tracewarn.protocol.matching._derive import RPIS_PER_KEY, RpiDeriver, hkdf_aemk
from tracewarn.protocol.matching._join import ChunkHits, ChunkTask, scan_chunk
from tracewarn.protocol.matching.batch import DiagnosisKeyBatch
from tracewarn.protocol.matching.config import MatchingConfig
from tracewarn.protocol.matching.results import KeyDayMatch, MatchResult, MatchStats, Sighting
from tracewarn.protocol.matching.store import (
    MAX_TIME,
    NO_ATTENUATION,
    ObservationStore,
)

__all__ = ["DEFAULT_CHUNK_SIZE", "ChunkScanner", "local_scanner", "match_keys"]

DEFAULT_CHUNK_SIZE = 4096
ChunkScanner = Callable[[Iterator[ChunkTask]], Iterator[ChunkHits]]
I64 = npt.NDArray[np.int64]


def local_scanner(store: ObservationStore, chunk_size: int) -> ChunkScanner:
    """Scan chunks in this process, one after the other, reusing one derivation buffer."""
    deriver = RpiDeriver(chunk_size)

    def scan(tasks: Iterator[ChunkTask]) -> Iterator[ChunkHits]:
        for task in tasks:
            yield scan_chunk(task, store, deriver)

    return scan


@dataclass(frozen=True, eq=False)
class _Pending:
    batch: DiagnosisKeyBatch
    first_index: int
    selected: I64
    report_type: I64
    infectiousness: I64


@dataclass(frozen=True, slots=True)
class _KeyInfo:
    index: int
    key_data: bytes
    start: int
    period: int
    report_type: ReportType
    infectiousness: Infectiousness
    trl: int | None
    dsos: int | None


def match_keys(
    keys: DiagnosisKeyBatch | Iterable[DiagnosisKeyBatch],
    store: ObservationStore,
    *,
    now: dt.datetime | int,
    config: MatchingConfig | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    scanner: ChunkScanner | None = None,
) -> MatchResult:
    """Match diagnosis keys against a device's sightings (GAEN Cryptography Specification v1.2 [docs/specifications.md#gaen-crypto], ENF v2 windows).

    `keys` is one batch or an iterable of batches (streamed: one export file at a time is
    enough). `now` (aware datetime or unix seconds) anchors the retention window. Bad keys
    raise `KeyFormatError` (already when the batch is built), a bad argument
    `MatchingInputError`.
    """
    cfg = config if config is not None else MatchingConfig()
    if not 1 <= chunk_size <= 1 << 20:
        raise MatchingInputError("chunk_size must be 1..1048576")
    now_interval = _now_interval(now)
    batches: Iterable[DiagnosisKeyBatch] = [keys] if isinstance(keys, DiagnosisKeyBatch) else keys
    scan = scanner or local_scanner(store, chunk_size)
    span = store.interval_range  # once: it scans every sighting's time
    pending: deque[_Pending] = deque()
    totals = [MatchStats()]  # the prepared chunks' counters, summed as the scanner pulls tasks

    def tasks() -> Iterator[ChunkTask]:
        first_index = 0
        for batch in batches:
            if not isinstance(batch, DiagnosisKeyBatch):
                raise MatchingInputError("keys must be DiagnosisKeyBatch objects")
            for chunk in batch.chunks(chunk_size):
                item, task, stats = _prepare(chunk, first_index, span, cfg, now_interval)
                totals[0] += stats
                first_index += len(chunk)
                pending.append(item)
                yield task

    infos: list[_KeyInfo] = []
    hit_keys: list[I64] = []
    hit_offsets: list[I64] = []
    hit_obs: list[I64] = []
    candidates = 0
    for hits in scan(tasks()):
        item = pending.popleft()
        candidates += hits.candidates
        if hits.key.size == 0:
            continue
        local = item.selected[hits.key]
        infos.extend(_key_info(item, int(i)) for i in np.unique(local))
        hit_keys.append(local + item.first_index)
        hit_offsets.append(hits.offset)
        hit_obs.append(hits.obs)
    if pending:
        raise MatchingInputError("the scanner returned fewer results than chunks it was given")
    matches = _build_matches(infos, hit_keys, hit_offsets, hit_obs, store)
    stats = dataclasses.replace(
        totals[0],
        candidates=candidates,
        matched_keys=len(infos),
        matched_sightings=sum(len(m.sightings) for m in matches),
    )
    return MatchResult(matches=tuple(matches), stats=stats)


def _now_interval(now: dt.datetime | int) -> int:
    if isinstance(now, dt.datetime):
        if now.tzinfo is None:
            raise MatchingInputError("now must be a timezone-aware datetime")
        seconds = int(now.timestamp())
    elif isinstance(now, int) and not isinstance(now, bool):
        seconds = now
    else:
        raise MatchingInputError("now must be an aware datetime or unix seconds")
    if not 0 <= seconds <= MAX_TIME:
        raise MatchingInputError(f"now = {seconds} is outside 1970..9999 (unix seconds)")
    return seconds // INTERVAL_SECONDS


def _prepare(
    chunk: DiagnosisKeyBatch,
    first_index: int,
    span: tuple[int, int] | None,
    cfg: MatchingConfig,
    now_interval: int,
) -> tuple[_Pending, ChunkTask, MatchStats]:
    start, period = chunk.rolling_start, chunk.rolling_period
    future = start > now_interval + cfg.max_future_intervals
    if future.any():
        index = first_index + int(np.argmax(future))
        raise KeyFormatError(
            f"diagnosis key {index}: rolling_start_interval_number {int(start[future][0])} is "
            f"more than {cfg.max_future_intervals} intervals after now ({now_interval})"
        )
    oldest = (now_interval // RPIS_PER_KEY - cfg.retention_days) * RPIS_PER_KEY
    retained = start + period - 1 >= oldest
    report_type = np.where(
        chunk.has_report_type & (chunk.report_type != ReportType.UNKNOWN),
        chunk.report_type,
        int(cfg.report_type_when_missing),
    )
    infectiousness = _infectiousness(chunk, cfg)
    revoked = (report_type == ReportType.REVOKED) if cfg.ignore_revoked else np.zeros_like(retained)
    no_inf = (
        (infectiousness == Infectiousness.NONE)
        if cfg.ignore_none_infectiousness
        else np.zeros_like(retained)
    )
    if span is None:
        nearby = np.zeros_like(retained)
    else:
        tol = cfg.tolerance_intervals
        nearby = (start - tol <= span[1]) & (start + period - 1 + tol >= span[0])
    keep_a = retained & ~revoked
    keep_b = keep_a & ~no_inf
    keep = keep_b & nearby
    selected = np.flatnonzero(keep)
    stats = MatchStats(
        keys=len(chunk),
        keys_outside_retention=int((~retained).sum()),
        keys_revoked=int((retained & revoked).sum()),
        keys_without_infectiousness=int((keep_a & no_inf).sum()),
        keys_without_nearby_sightings=int((keep_b & ~nearby).sum()),
        keys_derived=int(selected.size),
    )
    matrix = np.frombuffer(chunk.key_data, dtype=np.uint8).reshape(len(chunk), 16)
    task = ChunkTask(
        key_data=chunk.key_data if selected.size == len(chunk) else matrix[selected].tobytes(),
        rolling_start=start[selected],
        rolling_period=period[selected],
        tolerance=cfg.tolerance_intervals,
    )
    item = _Pending(chunk, first_index, selected, report_type, infectiousness)
    return item, task, stats


def _infectiousness(chunk: DiagnosisKeyBatch, cfg: MatchingConfig) -> I64:
    mapping = cfg.infectiousness_for_dsos
    result = np.full(len(chunk), int(Infectiousness.NONE), dtype=np.int64)
    for dsos, value in mapping.items():
        result[chunk.days_since_onset == dsos] = int(value)
    return np.where(chunk.has_days_since_onset, result, int(cfg.infectiousness_when_dsos_missing))


def _key_info(item: _Pending, local: int) -> _KeyInfo:
    batch = item.batch
    return _KeyInfo(
        index=item.first_index + local,
        key_data=batch.key(local),
        start=int(batch.rolling_start[local]),
        period=int(batch.rolling_period[local]),
        report_type=ReportType(int(item.report_type[local])),
        infectiousness=Infectiousness(int(item.infectiousness[local])),
        trl=(
            int(batch.transmission_risk_level[local])
            if batch.has_transmission_risk_level[local]
            else None
        ),
        dsos=int(batch.days_since_onset[local]) if batch.has_days_since_onset[local] else None,
    )


def _build_matches(
    infos: list[_KeyInfo],
    hit_keys: list[I64],
    hit_offsets: list[I64],
    hit_obs: list[I64],
    store: ObservationStore,
) -> list[KeyDayMatch]:
    if not infos:
        return []
    keys = np.concatenate(hit_keys)
    offsets = np.concatenate(hit_offsets)
    obs = np.concatenate(hit_obs)
    by_index = {info.index: info for info in infos}
    aemks: dict[int, bytes] = {}
    metadata: dict[tuple[int, bytes, bytes], BluetoothMetadata] = {}
    grouped: dict[tuple[int, int, dt.date], list[Sighting]] = {}
    for key_index, offset, o in zip(keys.tolist(), offsets.tolist(), obs.tolist(), strict=True):
        info = by_index[key_index]
        rpi, aem = store.rpi(o), store.aem_bytes(o)
        meta = metadata.get((key_index, rpi, aem))
        if meta is None:
            aemk = aemks.get(key_index)
            if aemk is None:
                aemk = aemks[key_index] = hkdf_aemk(info.key_data)
            meta = BluetoothMetadata.from_bytes(decrypt_metadata(aemk, rpi, aem))
            metadata[(key_index, rpi, aem)] = meta
        seen = int(store.time[o])
        sighting = Sighting(
            time=seen,
            interval=info.start + offset,
            rpi=rpi,
            aem=aem,
            tx_power=meta.tx_power,
            calibration_confidence=meta.calibration_confidence,
            min_attenuation=_attenuation(int(store.attenuation[o]), meta, int(store.rssi[o])),
            typical_attenuation=_attenuation(
                int(store.typical_attenuation[o]), meta, int(store.typical_rssi[o])
            ),
            seconds_since_last_scan=int(store.seconds_since_last_scan[o]),
        )
        day = dt.datetime.fromtimestamp(seen, tz=dt.UTC).date()
        grouped.setdefault((key_index, int(store.observer[o]), day), []).append(sighting)
    matches = []
    for (key_index, observer, day), sightings in sorted(grouped.items()):
        info = by_index[key_index]
        sightings.sort(key=lambda s: (s.time, s.interval, s.rpi))
        matches.append(
            KeyDayMatch(
                observer=observer,
                key_data=info.key_data,
                rolling_start_interval_number=info.start,
                rolling_period=info.period,
                date=day,
                report_type=info.report_type,
                infectiousness=info.infectiousness,
                transmission_risk_level=info.trl,
                days_since_onset_of_symptoms=info.dsos,
                sightings=tuple(sightings),
            )
        )
    return matches


def _attenuation(given: int, meta: BluetoothMetadata, rssi: int) -> int:
    if given != NO_ATTENUATION:
        return given
    return min(max(meta.tx_power - rssi, 0), 255)
