"""Class 1: memory exhaustion without credentials. Every endpoint has a body limit enforced
while the body streams in; authentication and rate limiting come before parsing."""

from __future__ import annotations

import json
import random

import pytest

from tests.reliability.conftest import Server, call_asgi, cases

JSON_ENDPOINTS = [
    "/version/v1/registrationToken",
    "/version/v1/testresult",
    "/version/v1/tan",
    "/version/v1/lab/results",
    "/version/v1/tan/teletan",
]
UPLOADS = ["/version/v1/diagnosis-keys", "/version/v1/submission-on-behalf"]
CHUNK = 64 * 1024


def _endless(size: int = CHUNK) -> object:
    while True:
        yield b"{" * size


@pytest.mark.parametrize("path", JSON_ENDPOINTS + UPLOADS)
def test_endless_body_without_length_is_cut_at_the_limit(fuzz_server: Server, path: str) -> None:
    # Repro: 200 MiB bodies to the JSON endpoints were read whole (4 x 200 MiB -> 1.9 GB RSS).
    # Here the body never ends: the server must stop pulling once it passed its limit.
    settings = fuzz_server.ctx.settings
    limit = settings.max_request_bytes if path in UPLOADS else settings.max_json_request_bytes
    headers = [(b"content-type", b"application/json")]
    if path == "/version/v1/lab/results":
        headers.append((b"x-api-key", fuzz_server.lab_key.encode()))
    if path in UPLOADS:
        headers += [(b"content-type", b"application/x-protobuf"), (b"cwa-authorization", b"x")]
    result = call_asgi(fuzz_server.app, "POST", path, chunks=_endless(), headers=headers)  # type: ignore[arg-type]
    assert result.received_bytes <= limit + CHUNK
    if path == "/version/v1/tan/teletan":
        # Takes no body: refused for its missing API key before any of it is read.
        assert result.status == 401 and result.received_bytes == 0
        return
    assert result.status == 413, (path, result.status, result.body[:200])
    problem = json.loads(result.body)
    assert problem["status"] == 413 and problem["type"].endswith("payload-too-large")


@pytest.mark.parametrize("path", JSON_ENDPOINTS + UPLOADS)
def test_declared_oversize_is_refused_before_reading(fuzz_server: Server, path: str) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"209715200")]
    result = call_asgi(fuzz_server.app, "POST", path, chunks=_endless(), headers=headers)  # type: ignore[arg-type]
    assert result.status == 413
    assert result.receive_calls == 0


def test_lab_results_checks_the_api_key_before_reading_the_body(server: Server) -> None:
    # Repro: lab/results parsed the body before checking the API key.
    for key in (None, b"wrong-key"):
        body = [json.dumps({"result": "positive"}).encode()]
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body[0])),
        ]
        if key is not None:
            headers.append((b"x-api-key", key))
        result = call_asgi(
            server.app, "POST", "/version/v1/lab/results", chunks=body, headers=headers
        )
        assert result.status == 401
        assert result.receive_calls == 0  # not one byte of the body was read
        # ... and the connection closes, so the server does not drain the body to reuse it.
        assert result.headers.get(b"connection") == b"close"
    ok = server.client.post(
        "/version/v1/lab/results",
        json={"result": "positive"},
        headers={"X-API-Key": server.lab_key},
    )
    assert ok.status_code == 201


def test_rate_limit_comes_before_the_body(make_server: object) -> None:
    srv: Server = make_server(rate_limit_per_client=2)  # type: ignore[operator]
    headers = [(b"content-type", b"application/json")]
    body = [json.dumps({"registrationToken": "00000000-0000-4000-8000-000000000000"}).encode()]
    statuses = []
    for _ in range(3):
        result = call_asgi(srv.app, "POST", "/version/v1/tan", chunks=list(body), headers=headers)
        statuses.append((result.status, result.receive_calls))
    assert [s for s, _ in statuses] == [403, 403, 429]
    assert statuses[-1][1] == 0  # the limited request's body was never read


def test_random_body_sizes_never_exceed_the_limit(fuzz_server: Server) -> None:
    rng = random.Random(11)
    settings = fuzz_server.ctx.settings
    for _ in range(cases(200, 5000)):
        path = rng.choice(JSON_ENDPOINTS + UPLOADS)
        limit = settings.max_request_bytes if path in UPLOADS else settings.max_json_request_bytes
        size = rng.choice([0, 1, limit - 1, limit, limit + 1, rng.randrange(0, 4 * limit)])
        chunk = rng.choice([1024, 8192, CHUNK])
        data = bytes(rng.getrandbits(8) for _ in range(min(size, 64))) * (size // 64 + 1)
        data = data[:size]
        parts = [data[i : i + chunk] for i in range(0, len(data), chunk)]
        headers = [(b"content-type", rng.choice([b"application/json", b"application/x-protobuf"]))]
        if rng.random() < 0.5:
            headers.append((b"content-length", str(size).encode()))
        result = call_asgi(fuzz_server.app, "POST", path, chunks=parts, headers=headers)
        assert 400 <= result.status < 500, (path, size, result.status, result.body[:300])
        assert result.received_bytes <= limit + chunk
        if size > limit:
            assert result.status in (401, 413, 429), (path, size, result.status)
