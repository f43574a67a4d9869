"""Nothing about an uploader is logged or stored; rate limits work without storing addresses."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from tracewarn.server import Settings
from tracewarn.server.models import Base
from tracewarn.server.ratelimit import MemoryRateLimiter
from tracewarn.server.serve import uvicorn_options
from tracewarn.server.testing import asgi_client

from .conftest import Server, payload_with_keys

CLIENT_HOST = "127.0.0.77"  # the address the app sees for the probing client
USER_AGENT = "tracewarn-privacy-probe/1.0"


def test_upload_leaves_no_address_or_user_agent_in_logs_or_database(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"User-Agent": USER_AGENT}
    tan = server.tan()
    probe = asgi_client(server.app, client=(CLIENT_HOST, 40000))
    r = probe.post(
        "/version/v1/diagnosis-keys",
        content=payload_with_keys(server.now[0]).SerializeToString(),
        headers={**headers, "content-type": "application/x-protobuf", "cwa-authorization": tan},
    )
    assert r.status_code == 200
    probe.post(
        "/version/v1/diagnosis-keys",
        content=b"junk",
        headers={**headers, "content-type": "application/x-protobuf", "cwa-authorization": tan},
    )
    probe.close()
    logged = "\n".join(f"{rec.name} {rec.getMessage()}" for rec in caplog.records)
    assert CLIENT_HOST not in logged and USER_AGENT not in logged and tan not in logged
    with server.ctx.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                for value in row:
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    assert CLIENT_HOST not in text and USER_AGENT not in text and tan not in text, (
                        table.name
                    )
    # and no column could hold one
    columns = {c.name for t in Base.metadata.sorted_tables for c in t.columns}
    assert not {"ip", "ip_address", "user_agent", "client", "phone", "device_id"} & columns


def test_uvicorn_runs_without_access_log_or_proxy_headers() -> None:
    options = uvicorn_options(Settings(), host="127.0.0.1", port=8123, workers=2)
    assert (
        options["access_log"] is False
        and options["proxy_headers"] is False
        and options["server_header"] is False
    )
    assert options["host"] == "127.0.0.1" and options["workers"] == 2 and options["factory"] is True


def test_codes_and_tokens_are_stored_only_as_hmacs(server: Server) -> None:
    code = server.code()
    token = server.register_code(code).json()["registrationToken"]
    tan = server.client.post("/version/v1/tan", json={"registrationToken": token}).json()["tan"]
    with server.ctx.engine.connect() as conn:
        dump = repr([list(conn.execute(sa.select(t))) for t in Base.metadata.sorted_tables])
    for secret in (code, token, tan, server.lab_key, code.encode().hex(), token.replace("-", "")):
        assert secret not in dump


def test_per_client_rate_limit(make_server: object) -> None:
    server: Server = make_server(rate_limit_per_client=3, rate_limit_global=100)  # type: ignore[operator]
    statuses = [
        server.client.post(
            "/version/v1/tan", json={"registrationToken": "00000000-0000-4000-8000-000000000000"}
        ).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [403, 403, 403] and statuses[3:] == [429, 429]
    server.advance(61)  # a new window forgets everything
    assert (
        server.client.post(
            "/version/v1/tan", json={"registrationToken": "00000000-0000-4000-8000-000000000000"}
        ).status_code
        == 403
    )


def test_rate_limiter_keeps_no_addresses() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(
        per_client=2,
        global_limit=5,
        failures_per_client=1,
        window_seconds=60,
        clock=lambda: now[0],
    )
    assert [limiter.allow("192.0.2.7") for _ in range(3)] == [True, True, False]
    assert limiter.allow("192.0.2.8")
    state = repr(vars(limiter))
    assert "192.0.2" not in state
    assert [limiter.allow(f"198.51.100.{i}") for i in range(2)] == [True, False]  # global 5 reached
    now[0] = 60
    assert limiter.allow("192.0.2.7")
