"""The adversary's material: a campaign of real and fake uploads through the real server.

`campaign` runs, on SQLite and on PostgreSQL, `UPLOADS` real reports (positive lab code, 15 keys,
2-4 encrypted check-ins each) and as many fake reports, interleaved at random, from virtual
devices talking to the real app over `httpx` (in-process ASGI transport: no ports). The uploads
arrive over three hours, the publisher runs after each (as `serve` would), and two days later
once more, so today's keys and the daily packages are out too. Then it keeps what an adversary
holding the server would hold: the database (SQLite: the file and its WAL, byte for byte), the
published files, and every request's path, sizes, status, send time and latency.

Waits: a device waits 0.5-2.5 s before each request (docs/device.md). Here every device has a
`ManualClock`, so a wait advances that clock and nothing really sleeps; the send times are the
simulated ones and latencies are the real in-process ones. A network observer would see
gaps = wait + latency, which is what the classifier gets.

Ground truth (which keys, reports, TAN and lab code belong to which upload) is taken from the
devices' own requests, for scoring only; the attacks never read it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tracewarn.device import DeviceStore, ManualClock, SeededRandomness, VirtualDevice
from tracewarn.protocol.presence.location import LocationType, TraceLocation, encode_qr_payload
from tracewarn.protocol.presence.qr import build_qr_url
from tracewarn.protocol.proto import submission_pb2
from tracewarn.server import Settings, create_app
from tracewarn.server.context import ServerContext
from tracewarn.server.distribution.publish import publish
from tracewarn.server.testing import SyncASGITransport
from tracewarn.server.verification.service import create_api_key

from ..conftest import POSTGRES_URL, _fresh_postgres_schema

# >= 50 of each, as the issue asks; more behind the variable for a stronger run.
UPLOADS = int(os.environ.get("TRACEWARN_PRIVACY_UPLOADS", "130"))
T0 = int(dt.datetime(2026, 11, 27, 10, 5, tzinfo=dt.UTC).timestamp())
VENUES = 24


@dataclass
class Request:
    path: str
    sent: float  # the device's (simulated) clock when it sent the request
    latency: float  # real seconds until the answer
    request_bytes: int
    response_bytes: int
    status: int


@dataclass
class Flow:
    real: bool
    requests: list[Request] = field(default_factory=list)


@dataclass
class Upload:
    """Ground truth of one real upload (for scoring)."""

    code: str
    tan: str
    keys: set[bytes]
    macs: set[bytes]
    staged_pattern: bytes  # two of its keys as the staging row packs them


@dataclass
class Campaign:
    dialect: str
    ctx: ServerContext
    data_dir: Path
    uploads: list[Upload]
    flows: list[Flow]
    wal_sizes_after_publish: list[int]
    files: dict[str, bytes]  # SQLite database file and WAL, as found at the end
    # Positive control: the first upload's staging bytes were findable in the files before
    # the batch moved it (so not finding any afterwards means something).
    staged_pattern_seen: bool = False

    def owner_of_key(self) -> dict[bytes, int]:
        return {k: i for i, u in enumerate(self.uploads) for k in u.keys}

    def owner_of_mac(self) -> dict[bytes, int]:
        return {m: i for i, u in enumerate(self.uploads) for m in u.macs}


class _Recorder(httpx.BaseTransport):
    def __init__(self, inner: SyncASGITransport) -> None:
        self.inner = inner
        self.flow: Flow | None = None
        self.clock: ManualClock | None = None
        self.bodies: list[tuple[dict[str, str], bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        started = time.perf_counter()
        response = self.inner.handle_request(request)
        latency = time.perf_counter() - started
        if self.flow is not None and self.clock is not None:
            self.flow.requests.append(
                Request(
                    request.url.path,
                    self.clock.now().timestamp(),
                    latency,
                    len(body),
                    len(response.content),
                    response.status_code,
                )
            )
            self.bodies.append((dict(request.headers), body))
        return response

    def close(self) -> None:
        self.inner.close()


def _venue_urls(rng: random.Random) -> list[str]:
    return [
        build_qr_url(
            encode_qr_payload(
                TraceLocation(
                    description=f"venue {i}",
                    address=f"street {i}",
                    type=LocationType.PERMANENT_FOOD_SERVICE,
                    cryptographic_seed=rng.randbytes(16),
                    default_check_in_length_minutes=60,
                )
            )
        )
        for i in range(VENUES)
    ]


def _device(index: int, start: int) -> VirtualDevice:
    clock = ManualClock(dt.datetime.fromtimestamp(start, dt.UTC))
    randomness = SeededRandomness(10, f"privacy/{index}")
    store = DeviceStore.in_memory(randomness.token_bytes(32), clock=clock, randomness=randomness)
    device = VirtualDevice(store, clock=clock, randomness=randomness)
    today = start // 86400
    for day in range(today - 14, today + 1):
        device.tek_for_day(day)
    return device


def _run(database_url: str, data_dir: Path, dialect: str) -> Campaign:
    now = [float(T0)]
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        rate_limit_per_client=10**7,
        rate_limit_global=10**8,
    )  # every privacy threshold at its default
    app = create_app(settings, clock=lambda: now[0])
    ctx: ServerContext = app.state.ctx
    with ctx.sessions.begin() as session:
        lab_key = create_api_key(session, ctx, kind="lab", label="privacy lab")
    recorder = _Recorder(SyncASGITransport(app))
    client = httpx.Client(transport=recorder, base_url="http://127.0.0.1")
    rng = random.Random(20261204)
    venues = _venue_urls(rng)
    kinds = [True] * UPLOADS + [False] * UPLOADS
    rng.shuffle(kinds)
    flows: list[Flow] = []
    uploads: list[Upload] = []
    wal_sizes: list[int] = []
    db_file = data_dir / "tracewarn.db"
    seen = False
    per_hour = -(-len(kinds) // 3)
    for hour in range(3):
        for real in kinds[hour * per_hour : (hour + 1) * per_hour]:
            device = _device(len(flows), int(now[0]))
            flow = Flow(real)
            recorder.flow, recorder.clock = flow, device.clock  # type: ignore[assignment]
            recorder.bodies = []
            if real:
                for url in rng.sample(venues, rng.randint(2, 4)):
                    start = int(now[0]) - rng.randint(1, 10) * 86400 + rng.randint(0, 40000)
                    device.check_in(url, start=start, end=start + rng.randint(1200, 7200))
                recorder.flow = None  # the lab's request is not the phone's
                code = client.post(
                    "/version/v1/lab/results",
                    json={"result": "positive"},
                    headers={"X-API-Key": lab_key},
                ).json()["code"]
                recorder.flow = flow
                device.report(client, guid=code)
                headers, body = recorder.bodies[-1]
                payload = submission_pb2.SubmissionPayload.FromString(body)
                keys = [k for k in payload.keys if k.transmission_risk_level >= 3]
                pattern = b"".join(
                    k.key_data
                    + k.rolling_start_interval_number.to_bytes(4, "big")
                    + k.rolling_period.to_bytes(2, "big")
                    + bytes([k.transmission_risk_level])
                    for k in keys[:2]
                )
                uploads.append(
                    Upload(
                        code,
                        headers["cwa-authorization"],
                        {k.key_data for k in keys},
                        {r.mac for r in payload.checkInProtectedReports},
                        pattern,
                    )
                )
                if dialect == "sqlite" and len(uploads) == 1:
                    raw = b"".join(p.read_bytes() for p in data_dir.glob("tracewarn.db*"))
                    seen = pattern in raw
            else:
                device.fake_report(client)
            recorder.flow = None
            flows.append(flow)
            device.close()
        now[0] += 3600
        publish(ctx)
        if dialect == "sqlite":
            wal = db_file.with_name(db_file.name + "-wal")
            wal_sizes.append(wal.stat().st_size if wal.exists() else 0)
    now[0] += 2 * 86400
    publish(ctx)
    client.close()
    files: dict[str, bytes] = {}
    if dialect == "sqlite":
        for path in data_dir.glob("tracewarn.db*"):
            files[path.name] = path.read_bytes()
    return Campaign(dialect, ctx, data_dir, uploads, flows, wal_sizes, files, seen)


@pytest.fixture(
    scope="package",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def campaign(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Campaign]:
    data_dir = tmp_path_factory.mktemp(f"privacy-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'tracewarn.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip(
                "PostgreSQL tests need TRACEWARN_TEST_POSTGRES_URL, e.g. "
                "postgresql+psycopg://postgres@127.0.0.1:5432/tracewarn_test (.ci/run sets it)"
            )
        url = _fresh_postgres_schema(POSTGRES_URL)
    result = _run(url, data_dir, request.param)
    yield result
    result.ctx.engine.dispose()


def adjacency(groups: list[list[int | None]]) -> tuple[int, float, float]:
    """Same-owner neighbours within each group's sequence: (observed, expected and s.d. if each
    group were in a random order).

    A group is what the attacker can already tell apart (a PostgreSQL transaction, i.e. one
    batch, or a whole table): the test is whether the order inside it says more. `None` marks
    rows of no upload (padding), left in place as an attacker would see them.
    """
    observed, expected, variance = 0, 0.0, 0.0
    for owners in groups:
        n = len(owners)
        if n < 2:
            continue
        observed += sum(1 for a, b in itertools.pairwise(owners) if a is not None and a == b)
        sizes: dict[int, int] = {}
        for o in owners:
            if o is not None:
                sizes[o] = sizes.get(o, 0) + 1
        p = sum(k * (k - 1) for k in sizes.values()) / (n * (n - 1))
        expected += (n - 1) * p
        variance += (n - 1) * p * (1 - p)
    return observed, expected, variance**0.5


def assert_chance(groups: list[list[int | None]], what: str) -> None:
    observed, expected, sd = adjacency(groups)
    # Four standard deviations above chance (plus one for tiny expectations): a random order
    # passes with near certainty, while one block per upload (the old storage) gives ~13 of
    # every 14 neighbours from the same upload and fails by hundreds of s.d.
    assert observed <= expected + 4 * sd + 1, (
        f"{what}: {observed} same-upload neighbours, {expected:.1f} ± {sd:.1f} by chance"
    )


def storage_order(
    campaign: Campaign, table: str, column: str, owner: dict[bytes, int]
) -> list[list[int | None]]:
    """`table`'s rows in storage order, split by transaction on PostgreSQL (heap order `ctid`
    within each `xmin`); on SQLite the whole table in its b-tree order (no rowid)."""
    if campaign.dialect != "postgresql":
        return [[owner.get(bytes(r[0])) for r in rows(campaign, f"SELECT {column} FROM {table}")]]
    groups: dict[int, list[int | None]] = {}
    for value, xmin in rows(
        campaign,
        f"SELECT {column}, xmin::text::bigint FROM {table} ORDER BY ctid",
    ):
        groups.setdefault(int(xmin), []).append(owner.get(bytes(value)))
    return list(groups.values())


def rows(campaign: Campaign, sql: str, **params: Any) -> list[Any]:
    import sqlalchemy as sa

    with campaign.ctx.engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))
