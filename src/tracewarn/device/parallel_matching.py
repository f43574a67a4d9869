"""Process-parallel matching: the same `match_keys`, with the chunk scans run by worker processes.

It lives outside `tracewarn.protocol` because it touches the operating system (it starts
processes); the pure matcher only exposes the `scanner` seam this plugs into. Each worker
receives the observation store once, through the pool initializer, and then only chunk tasks (a
few hundred KB of key columns) go out and hit arrays come back. Decryption of the AEMs, grouping and ordering stay in the calling process, in
input order, so the result is identical to a single-process run (tests check this).

Off by default: on a 2-core machine shared with other work a second process helps only when a
core is actually free, and starting workers and shipping the store costs about a second.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import multiprocessing.context
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from tracewarn.protocol.errors import MatchingInputError
from tracewarn.protocol.matching._derive import RpiDeriver
from tracewarn.protocol.matching._join import ChunkHits, ChunkTask, scan_chunk
from tracewarn.protocol.matching.batch import DiagnosisKeyBatch
from tracewarn.protocol.matching.config import MatchingConfig
from tracewarn.protocol.matching.engine import DEFAULT_CHUNK_SIZE, match_keys
from tracewarn.protocol.matching.results import MatchResult
from tracewarn.protocol.matching.store import ObservationStore

__all__ = ["ProcessMatcher"]

_worker_state: dict[str, object] = {}


def _install(store: ObservationStore, chunk_size: int) -> None:
    _worker_state["store"] = store
    _worker_state["deriver"] = RpiDeriver(chunk_size)


def _scan_in_worker(task: ChunkTask) -> ChunkHits:
    store = _worker_state["store"]
    deriver = _worker_state["deriver"]
    assert isinstance(store, ObservationStore)
    assert isinstance(deriver, RpiDeriver)
    return scan_chunk(task, store, deriver)


class ProcessMatcher:
    """Match against one store with `workers` processes; use as a context manager.

    `with ProcessMatcher(store, workers=2) as matcher: result = matcher.match(keys, now=now)`
    """

    def __init__(
        self,
        store: ObservationStore,
        *,
        workers: int | None = None,
        config: MatchingConfig | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        mp_context: multiprocessing.context.BaseContext | None = None,
    ) -> None:
        count = workers if workers is not None else (os.cpu_count() or 1)
        if not 1 <= count <= 256:
            raise MatchingInputError("workers must be 1..256")
        self.store = store
        self.config = config if config is not None else MatchingConfig()
        self.chunk_size = chunk_size
        self.workers = count
        # Spawned workers by default: forking a process that may hold threads (a server, a test
        # runner) can deadlock, and "spawn" behaves the same on every platform.
        context = mp_context if mp_context is not None else multiprocessing.get_context("spawn")
        self._executor = ProcessPoolExecutor(
            max_workers=count,
            mp_context=context,
            initializer=_install,
            initargs=(store, chunk_size),
        )

    def match(
        self, keys: DiagnosisKeyBatch | Iterable[DiagnosisKeyBatch], *, now: dt.datetime | int
    ) -> MatchResult:
        """As `match_keys(keys, store, now=now, config=config)`, scanned by the workers."""
        return match_keys(
            keys,
            self.store,
            now=now,
            config=self.config,
            chunk_size=self.chunk_size,
            scanner=self.scanner,
        )

    def scanner(self, tasks: Iterator[ChunkTask]) -> Iterator[ChunkHits]:
        """The `ChunkScanner` backed by the workers (pass it to `match_keys` or `match_exports`)."""
        # Two tasks per worker in flight keep every worker busy while bounding memory.
        in_flight: deque[Future[ChunkHits]] = deque()
        for task in tasks:
            in_flight.append(self._executor.submit(_scan_in_worker, task))
            if len(in_flight) >= 2 * self.workers:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ProcessMatcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
