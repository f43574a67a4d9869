"""Class 7: sliding-window rate limits shared by every worker, keyed by a rotating keyed hash,
failed API-key checks limited too."""

from __future__ import annotations

import random
from typing import Any

import pytest
import sqlalchemy as sa

from tests.reliability.conftest import Server, cases
from tracewarn.server.models import RateLimitHit
from tracewarn.server.ratelimit import PARTS, DatabaseRateLimiter, MemoryRateLimiter

TOKEN = {"registrationToken": "00000000-0000-4000-8000-000000000000"}


def _guess(srv: Server) -> int:
    return srv.client.post("/version/v1/tan", json=TOKEN).status_code


def test_no_burst_across_a_window_boundary(server: Server) -> None:
    # Repro: 120 guesses in 13.6 s across a clock-minute boundary all got through.
    limit = server.ctx.settings.rate_limit_per_client
    server.now[0] = (server.now[0] // 60 + 1) * 60 - 6.8  # 6.8 s before a minute boundary
    statuses = []
    for _ in range(120):
        statuses.append(_guess(server))
        server.advance(13.6 / 120)
    allowed = sum(s != 429 for s in statuses)
    assert allowed <= limit * (1 + 1 / PARTS), allowed
    assert statuses[-1] == 429


def test_limits_are_shared_by_workers(make_server: Any) -> None:
    # Two apps on one database and data dir: two worker processes of one deployment.
    first: Server = make_server(rate_limit_per_client=10)
    second: Server = make_server(rate_limit_per_client=10)
    second.now[0] = first.now[0]
    statuses = [_guess(first if i % 2 else second) for i in range(20)]
    assert statuses.count(429) == 10, statuses


def test_failed_api_key_checks_are_limited(make_server: Any) -> None:
    srv: Server = make_server(rate_limit_failures_per_client=5)
    bad = [
        srv.client.post(
            "/version/v1/lab/results", json={"result": "positive"}, headers={"X-API-Key": "guess"}
        ).status_code
        for _ in range(7)
    ]
    assert bad == [401] * 5 + [429] * 2
    teletan = srv.client.post("/version/v1/tan/teletan", headers={"X-API-Key": "guess"})
    assert teletan.status_code == 429
    srv.advance(61)
    good = srv.client.post(
        "/version/v1/lab/results", json={"result": "positive"}, headers={"X-API-Key": srv.lab_key}
    )
    assert good.status_code == 201


def test_counters_hold_no_address_and_do_not_outlive_the_window(server: Server) -> None:
    for _ in range(3):
        _guess(server)
    with server.ctx.engine.connect() as conn:
        rows = conn.execute(sa.select(RateLimitHit)).all()
    assert rows and all(len(r.tag) == 16 for r in rows)
    assert not any(b"127.0.0.1" in r.tag or b"\x7f\x00\x00\x01" in r.tag for r in rows)
    server.advance(61)
    _guess(server)  # the first check in a new slot deletes what left the window
    with server.ctx.engine.connect() as conn:
        slots = {r.slot for r in conn.execute(sa.select(RateLimitHit)).all()}
    assert len(slots) == 1


@pytest.mark.parametrize("backend", ["memory", "database"])
def test_sliding_window_invariant_under_random_arrivals(backend: str, server: Server) -> None:
    # In any window-long span, at most limit * (1 + 1/PARTS) requests of one client pass.
    if backend == "memory" and server.ctx.engine.dialect.name != "sqlite":
        pytest.skip("the memory limiter does not depend on the database")
    rng = random.Random(7)
    now = [0.0]
    limit, window = 20, 60.0
    limiter: MemoryRateLimiter | DatabaseRateLimiter
    if backend == "memory":
        limiter = MemoryRateLimiter(
            per_client=limit,
            global_limit=10**9,
            failures_per_client=1,
            window_seconds=window,
            clock=lambda: now[0],
        )
    else:
        limiter = DatabaseRateLimiter(
            server.ctx.engine,
            epoch_key=lambda e: e.to_bytes(8, "big", signed=True),
            per_client=limit,
            global_limit=10**9,
            failures_per_client=1,
            window_seconds=window,
            clock=lambda: now[0],
        )
    passed: list[float] = []
    for _ in range(cases(300, 5000)):
        now[0] += rng.expovariate(1.0)
        if limiter.allow("198.51.100.9"):
            passed.append(now[0])
    assert len(passed) >= limit
    for i, t in enumerate(passed):
        inside = sum(1 for u in passed[: i + 1] if u > t - window)
        assert inside <= limit * (1 + 1 / PARTS), (t, inside)
