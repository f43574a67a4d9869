"""Classes 2, 4 and 7 (server side): no 5xx and no traceback on any malformed request, no
request path in a log line, a client leaving mid-body logged as one line, uploads whose keys
are all outside the window refused with the TAN kept."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import string

import pytest
import sqlalchemy as sa

from tests.reliability.conftest import Server, call_asgi, cases, payload_with_keys
from tracewarn.server.models import DiagnosisKey, StagedUpload


def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]  # any logger, uvicorn too
    assert errors == [], [r.getMessage() for r in errors]
    assert not any(r.exc_info for r in caplog.records)


def test_non_utf8_visited_country_is_a_400(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # Repro: a visitedCountries entry that is not UTF-8 raised TypeError (500, traceback).
    payload = payload_with_keys(server.now[0], 2)
    raw = payload.SerializeToString() + b"\x1a\x02\xff\xfe"  # field 3, two invalid bytes
    tan = server.tan()
    for body in (raw, payload.SerializeToString() + b"\x22\x02\xff\xfe"):  # and origin
        r = server.client.post(
            "/version/v1/diagnosis-keys",
            content=body,
            headers={"content-type": "application/x-protobuf", "cwa-authorization": tan},
        )
        assert r.status_code == 400, r.text
        assert "UTF-8" in r.json()["detail"]
    _no_errors_logged(caplog)
    assert server.upload(payload_with_keys(server.now[0], 2), tan).status_code == 200


def test_all_keys_outside_the_window_is_a_400_and_keeps_the_tan(server: Server) -> None:
    # Repro: such an upload got 200, burnt the TAN and stored nothing.
    tan = server.tan()
    old = payload_with_keys(server.now[0] - 30 * 86400, 3)
    r = server.upload(old, tan)
    assert r.status_code == 400 and "outside the accepted window" in r.json()["detail"]
    with server.ctx.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(StagedUpload)) == 0
    fake = server.upload(old, tan, fake=True)
    # A fake carries the same payload shape and gets the same padded size (status differs only
    # for this broken-client case; real apps upload current keys, and fakes look like those).
    assert len(fake.content) == len(r.content)
    assert server.upload(payload_with_keys(server.now[0], 3), tan).status_code == 200


def test_long_path_segment_is_404_and_no_path_is_logged(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # Repro: GET of a segment over 255 characters, once version/ existed, was a 500 (filename
    # too long) and the log line carried the requested path.
    server.ctx.blobs.put("version/v1/x/index", b"{}", content_type="application/json")
    caplog.set_level(logging.DEBUG)
    for segment in ("a" * 256, "a" * 5000, "é" * 200, ".hidden", "%00", "a\\b"):
        r = server.client.get(f"/version/v1/{segment}")
        assert r.status_code == 404, (segment[:20], r.status_code)
        assert r.headers["content-type"] == "application/problem+json"
    _no_errors_logged(caplog)
    server_lines = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert not any("aaaa" in r.getMessage() for r in server_lines)


def test_client_disconnect_mid_body_is_one_line(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    # Repro: logged as an ERROR with a traceback.
    caplog.set_level(logging.DEBUG)
    payload = payload_with_keys(server.now[0], 5).SerializeToString()
    headers = [
        (b"content-type", b"application/x-protobuf"),
        (b"cwa-authorization", server.tan().encode()),
    ]
    result = call_asgi(
        server.app,
        "POST",
        "/version/v1/diagnosis-keys",
        chunks=[payload[:20], payload[20:]],
        headers=headers,
        disconnect_after=1,
    )
    assert result.status == 0  # nothing sent to a client that is gone
    lines = [r for r in caplog.records if r.name.startswith("tracewarn")]
    assert [r.getMessage() for r in lines] == [
        "client disconnected before the request body was complete"
    ]
    assert lines[0].levelno == logging.WARNING and not lines[0].exc_info


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(4)
        if op == 0 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 1 and buf:
            del buf[rng.randrange(len(buf)) :]
        elif op == 2:
            at = rng.randrange(len(buf) + 1)
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
        elif buf:
            at = rng.randrange(len(buf))
            buf[at : at + rng.randint(1, 4)] = b""
    return bytes(buf)


def _random_json(rng: random.Random) -> object:
    kinds = [
        lambda: rng.randint(-(2**70), 2**70),
        lambda: "".join(
            rng.choice(string.printable + "é\u2028\ud7ff") for _ in range(rng.randint(0, 40))
        ),
        lambda: None,
        lambda: rng.random() * 1e300,
        lambda: [rng.randint(0, 9)] * rng.randint(0, 3),
        lambda: {"keyData": "AAAA", "rollingStartIntervalNumber": rng.randint(-5, 2**40)},
    ]
    return rng.choice(kinds)()


def test_fuzzed_uploads_never_5xx(fuzz_server: Server, caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(2)
    srv = fuzz_server
    tan = srv.tan()
    base = payload_with_keys(srv.now[0], 14)
    report = base.checkInProtectedReports.add()
    report.locationIdHash, report.iv = os.urandom(32), os.urandom(16)
    report.encryptedCheckInRecord, report.mac = os.urandom(16), os.urandom(32)
    raw = base.SerializeToString()
    fields = [
        "keys",
        "visitedCountries",
        "origin",
        "consentToFederation",
        "submissionType",
        "checkInProtectedReports",
        "requestPadding",
        "bogus",
    ]
    statuses: dict[int, int] = {}
    for i in range(cases(300, 20000)):
        headers: dict[str, str | bytes] = {"cwa-authorization": "not-a-tan"}
        if i % 3 == 2:
            body = json.dumps(
                {rng.choice(fields): _random_json(rng) for _ in range(rng.randint(0, 4))}
            ).encode()
            headers["content-type"] = "application/json"
        else:
            body = _mutate(rng, raw)
            headers["content-type"] = "application/x-protobuf"
        if rng.random() < 0.1:
            headers["cwa-fake"] = rng.choice(["1", "0", "2", b"\xc3\xa9"])
        r = srv.client.post("/version/v1/diagnosis-keys", content=body, headers=headers)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (i, r.status_code, r.text[:300])
    assert set(statuses) <= {200, 400, 403, 413, 415, 422}, statuses
    _no_errors_logged(caplog)
    # Nothing a fuzzed request sent was stored with the bogus TAN, and the real TAN still works.
    with srv.ctx.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(DiagnosisKey)) == 0
    assert srv.upload(payload_with_keys(srv.now[0], 2), tan).status_code == 200


def test_fuzzed_verification_requests_never_5xx(
    fuzz_server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(3)
    srv = fuzz_server
    paths = [
        "/version/v1/registrationToken",
        "/version/v1/testresult",
        "/version/v1/tan",
        "/version/v1/lab/results",
        "/version/v1/tan/teletan",
    ]
    names = [
        "keyType",
        "key",
        "keyDob",
        "registrationToken",
        "result",
        "testType",
        "code",
        "requestPadding",
    ]
    good = hashlib.sha256(b"x").hexdigest()
    for _ in range(cases(300, 20000)):
        path = rng.choice(paths)
        doc = {
            rng.choice(names): rng.choice([_random_json(rng), "GUID", "TELETAN", good, "positive"])
            for _ in range(rng.randint(0, 4))
        }
        body = json.dumps(doc).encode()
        if rng.random() < 0.2:
            body = _mutate(rng, body)
        headers = {
            "content-type": rng.choice(["application/json", "text/plain", "application/x-protobuf"])
        }
        if rng.random() < 0.5:
            headers["X-API-Key"] = rng.choice([srv.lab_key, srv.hotline_key, "nope"])
        if rng.random() < 0.2:
            headers["cwa-fake"] = rng.choice(["1", "0", "yes"])
        r = srv.client.post(path, content=body, headers=headers)
        assert r.status_code < 500, (path, doc, r.status_code, r.text[:300])
        assert r.headers["content-type"] in ("application/json", "application/problem+json")
    _no_errors_logged(caplog)


def test_fuzzed_paths_never_5xx(fuzz_server: Server, caplog: pytest.LogCaptureFixture) -> None:
    rng = random.Random(4)
    srv = fuzz_server
    srv.ctx.blobs.put(
        "version/v1/diagnosis-keys/country/index", b"[]", content_type="application/json"
    )
    alphabet = string.ascii_letters + string.digits + "._-~%é/\\:" + "\u202e"
    for _ in range(cases(300, 20000)):
        parts = [
            "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 5, 64, 65, 255, 256, 1000])))
            for _ in range(rng.randint(1, 6))
        ]
        method = rng.choice(["GET", "GET", "HEAD", "POST", "PUT", "DELETE"])
        r = srv.client.request(method, "/version/" + "/".join(parts))
        assert r.status_code < 500, (method, parts, r.status_code)
    _no_errors_logged(caplog)
