"""Gateway upload, download, audit and callbacks; every refusal stores nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import httpx
import pytest
import sqlalchemy as sa

from tests.server.gateway.conftest import Gateway
from tracewarn.protocol.federation import (
    certificate_thumbprint,
    encode_batch,
    encode_batch_json,
    load_certificate,
    sign_batch,
    verify_batch,
)
from tracewarn.server.gateway.admin import register_issued
from tracewarn.server.gateway.app import run_gateway_jobs
from tracewarn.server.gateway.batching import make_download_batches
from tracewarn.server.gateway.models import GatewayKey, UploadBatch
from tracewarn.server.gateway.pki import issue_certificate

PROTOBUF = "application/protobuf; version=1.0"


def _post(
    gw: Gateway, country: str, body: bytes, tag: str, signature: str, **extra: str
) -> httpx.Response:
    headers = {
        **gw.headers(country),
        "Content-Type": PROTOBUF,
        "batchTag": tag,
        "batchSignature": signature,
    }
    headers.update(extra)
    return gw.http.post("/diagnosiskeys/upload", content=body, headers=headers)


def _stored(gw: Gateway) -> tuple[int, int]:
    with gw.ctx.sessions() as s:
        return (
            int(s.scalar(sa.select(sa.func.count()).select_from(GatewayKey)) or 0),
            int(s.scalar(sa.select(sa.func.count()).select_from(UploadBatch)) or 0),
        )


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:tracewarn:problem:")
    return body


def test_upload_download_audit_round_trip(gateway: Gateway) -> None:
    gw = gateway
    a_keys = gw.keys("AA", 30, seed=1, visited=("AA", "BB"))
    b_keys = gw.keys("BB", 20, seed=2)
    assert gw.member("AA").upload(a_keys, tag="a-1", signature=gw.sign("AA", a_keys)).status == 201
    assert gw.member("BB").upload(b_keys, tag="b-1", signature=gw.sign("BB", b_keys)).status == 201
    assert make_download_batches(gw.ctx) == ["20261201-1"]
    # CC sees both uploads, in upload order; AA does not get its own keys back.
    got = gw.member("CC").download("2026-12-01")
    assert got is not None and got.tag == "20261201-1" and got.next_tag is None
    assert got.keys == a_keys + b_keys
    own = gw.member("AA").download("2026-12-01")
    assert own is not None and own.keys == b_keys
    # The audit lets CC verify every slice against the uploader's registered signing certificate.
    entries = gw.member("CC").audit("2026-12-01", "20261201-1")
    assert [e["country"] for e in entries] == ["AA", "BB"] and [e["amount"] for e in entries] == [
        30,
        20,
    ]
    offset = 0
    for entry in entries:
        part = got.keys[offset : offset + entry["amount"]]
        offset += entry["amount"]
        signer = verify_batch(
            part,
            entry["batchSignature"],
            now=dt.datetime.fromtimestamp(gw.now[0], dt.UTC),
            trusted_thumbprints={entry["uploaderSigningThumbprint"]},
        )
        assert signer.country == entry["country"]
    # JSON form of the upload signs the same way.
    c_keys = gw.keys("CC", 3, seed=3)
    r = gw.http.post(
        "/diagnosiskeys/upload",
        content=encode_batch_json(c_keys),
        headers={
            **gw.headers("CC"),
            "Content-Type": "application/json; version=1.0",
            "batchTag": "c-1",
            "batchSignature": gw.sign("CC", c_keys),
        },
    )
    assert r.status_code == 201 and r.headers["batchTag"] == "c-1"
    assert make_download_batches(gw.ctx) == ["20261201-2"]
    first = gw.member("BB").download("2026-12-01")
    assert first is not None and first.next_tag == "20261201-2"
    second = gw.member("BB").download("2026-12-01", first.next_tag)
    assert second is not None and second.keys == c_keys


def test_idempotent_re_upload_stores_once(gateway: Gateway) -> None:
    gw = gateway
    keys = gw.keys("AA", 10, seed=4)
    sig = gw.sign("AA", keys)
    body = encode_batch(keys)
    assert _post(gw, "AA", body, "a-1", sig).status_code == 201
    assert _post(gw, "AA", body, "a-1", sig).status_code == 201
    assert _stored(gw) == (10, 1)


def _refusal(gw: Gateway, case: str) -> tuple[httpx.Response, int]:
    keys = gw.keys("AA", 10, seed=5)
    sig = gw.sign("AA", keys)
    body = encode_batch(keys)
    if case == "replay":
        assert _post(gw, "AA", body, "a-1", sig).status_code == 201
        return _post(gw, "AA", body, "a-2", sig), 409
    if case == "duplicate-tag":
        assert _post(gw, "AA", body, "a-1", sig).status_code == 201
        other = gw.keys("AA", 5, seed=6)
        return _post(gw, "AA", encode_batch(other), "a-1", gw.sign("AA", other)), 409
    if case == "duplicate-keys":
        assert _post(gw, "AA", body, "a-1", sig).status_code == 201
        mixed = keys[:3] + gw.keys("AA", 2, seed=7)
        return _post(gw, "AA", encode_batch(mixed), "a-2", gw.sign("AA", mixed)), 207
    if case == "forged-signature":
        tampered = [replace(keys[0], transmission_risk_level=8), *keys[1:]]
        return _post(gw, "AA", encode_batch(tampered), "a-1", sig), 400
    if case == "wrong-member":
        # BB presents AA's batch signed by AA: the signer is not registered for BB, and the
        # keys' origin is not BB.
        return _post(gw, "BB", body, "b-1", sig), 400
    if case == "wrong-origin":
        bb = gw.keys("BB", 3, seed=8)
        return _post(gw, "AA", encode_batch(bb), "a-1", gw.sign("BB", bb)), 400
    if case == "unknown-client":
        headers = {"X-SSL-Client-SHA256": "0" * 64, "X-SSL-Client-DN": "C=AA,CN=x"}
        return gw.http.post(
            "/diagnosiskeys/upload",
            content=body,
            headers={**headers, "Content-Type": PROTOBUF, "batchTag": "x", "batchSignature": sig},
        ), 403
    if case == "oversized":
        big = gw.keys("AA", 5001, seed=9)
        return _post(gw, "AA", encode_batch(big), "a-1", gw.sign("AA", big)), 413
    if case == "expired-signing-certificate":
        when = dt.datetime.fromtimestamp(gw.now[0], dt.UTC) - dt.timedelta(days=30)
        old = issue_certificate(
            gw.anchor, country="AA", kind="SIGNING", now=when, days=10, not_before=when
        )
        register_issued(gw.ctx, gw.anchor, old.certificate, "SIGNING")
        return _post(
            gw, "AA", body, "a-1", sign_batch(keys, key=old.key, certificate=old.certificate)
        ), 400
    if case == "expired-client-certificate":
        when = dt.datetime.fromtimestamp(gw.now[0], dt.UTC) - dt.timedelta(days=30)
        old = issue_certificate(
            gw.anchor, country="AA", kind="AUTHENTICATION", now=when, days=10, not_before=when
        )
        register_issued(gw.ctx, gw.anchor, old.certificate, "AUTHENTICATION")
        headers = {
            "X-SSL-Client-SHA256": certificate_thumbprint(old.certificate),
            "X-SSL-Client-DN": "C=AA",
        }
        return gw.http.post(
            "/diagnosiskeys/upload",
            content=body,
            headers={**headers, "Content-Type": PROTOBUF, "batchTag": "a-1", "batchSignature": sig},
        ), 403
    if case == "invalid-key":
        bad = [replace(keys[0], rolling_period=145), *keys[1:]]
        return _post(gw, "AA", encode_batch(bad), "a-1", gw.sign("AA", bad)), 400
    if case == "wrong-version":
        return _post(
            gw, "AA", body, "a-1", sig, **{"Content-Type": "application/protobuf; version=2.0"}
        ), 406
    if case == "no-version":
        return _post(gw, "AA", body, "a-1", sig, **{"Content-Type": "application/protobuf"}), 400
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "replay",
        "duplicate-tag",
        "duplicate-keys",
        "forged-signature",
        "wrong-member",
        "wrong-origin",
        "unknown-client",
        "oversized",
        "expired-signing-certificate",
        "expired-client-certificate",
        "invalid-key",
        "wrong-version",
        "no-version",
    ],
)
def test_refusals_store_nothing(gateway: Gateway, case: str) -> None:
    before = (10, 1) if case in ("replay", "duplicate-tag", "duplicate-keys") else (0, 0)
    response, status = _refusal(gateway, case)
    if status == 207:
        assert response.status_code == 207
        assert response.json() == {"201": [3, 4], "409": [0, 1, 2], "500": []}
    else:
        _problem(response, status)
    assert _stored(gateway) == before


def test_revoked_and_tampered_certificates_are_absent(gateway: Gateway) -> None:
    from tracewarn.server.gateway.certificates import revoke_certificate
    from tracewarn.server.gateway.models import MemberCertificate

    gw = gateway
    keys = gw.keys("AA", 2, seed=10)
    thumb = certificate_thumbprint(
        load_certificate(gw.members["AA"].signing_certificate.read_bytes())
    )
    with gw.ctx.sessions.begin() as s:
        assert revoke_certificate(s, thumb) == 1
    _problem(_post(gw, "AA", encode_batch(keys), "a-1", gw.sign("AA", keys)), 400)
    # A row whose operator signature does not cover its PEM counts as absent.
    with gw.ctx.sessions.begin() as s:
        row = s.scalars(
            sa.select(MemberCertificate).where(
                MemberCertificate.country == "BB", MemberCertificate.kind == "AUTHENTICATION"
            )
        ).one()
        row.operator_signature = s.scalars(
            sa.select(MemberCertificate.operator_signature).where(
                MemberCertificate.country == "CC", MemberCertificate.kind == "AUTHENTICATION"
            )
        ).one()
    _problem(
        gw.http.get(
            "/diagnosiskeys/download/2026-12-01", headers={**gw.headers("BB"), "Accept": PROTOBUF}
        ),
        403,
    )
    assert _stored(gw) == (0, 0)


def test_download_and_audit_errors(gateway: Gateway) -> None:
    gw = gateway
    h = {**gw.headers("BB"), "Accept": PROTOBUF}
    _problem(gw.http.get("/diagnosiskeys/download/2026-12-01", headers=h), 404)
    _problem(gw.http.get("/diagnosiskeys/download/2026-11-20", headers=h), 410)
    _problem(
        gw.http.get("/diagnosiskeys/download/2026-12-01", headers={**h, "Accept": "text/plain"}),
        415,
    )
    _problem(
        gw.http.get("/diagnosiskeys/download/2026-12-01", headers={**h, "batchTag": "nope"}), 404
    )
    _problem(gw.http.get("/diagnosiskeys/audit/download/2026-12-01/nope", headers=h), 404)
    keys = gw.keys("AA", 3, seed=11)
    assert gw.member("AA").upload(keys, tag="a-1", signature=gw.sign("AA", keys)).status == 201
    make_download_batches(gw.ctx)
    _problem(gw.http.get("/diagnosiskeys/audit/download/2026-11-30/20261201-1", headers=h), 404)
    _problem(
        gw.http.get("/diagnosiskeys/download/2026-12-02", headers={**h, "batchTag": "20261201-1"}),
        400,
    )
    # Retention: three days on, the keys are gone and the audit says so; the tag stays used.
    gw.now[0] += 3 * 86400
    assert run_gateway_jobs(gw.ctx, httpx.Client())["keys_deleted"] == 3
    _problem(gw.http.get("/diagnosiskeys/download/2026-12-01", headers=h), 410)
    _problem(
        _post(
            gw,
            "AA",
            encode_batch(gw.keys("AA", 1, seed=12)),
            "a-1",
            gw.sign("AA", gw.keys("AA", 1, seed=12)),
        ),
        409,
    )


def test_callbacks_are_delivered_in_order_and_dropped_after_retries(gateway: Gateway) -> None:
    gw = gateway
    gw.ctx.settings.callback_allow_loopback = True
    calls: list[tuple[str, str]] = []
    fail = [False]

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request.url.params["batchTag"], request.url.params["date"]))
        return httpx.Response(500 if fail[0] else 200)

    receiver = httpx.Client(transport=httpx.MockTransport(handler))
    r = gw.http.put(
        "/diagnosiskeys/callback/cb1",
        params={"url": "http://127.0.0.1:9/cb"},
        headers=gw.headers("BB"),
    )
    assert r.status_code == 200
    _problem(
        gw.http.put(
            "/diagnosiskeys/callback/cb2",
            params={"url": "http://10.0.0.1/cb?x=1"},
            headers=gw.headers("BB"),
        ),
        400,
    )
    assert gw.http.get("/diagnosiskeys/callback", headers=gw.headers("BB")).json() == [
        {"callbackId": "cb1", "url": "http://127.0.0.1:9/cb"}
    ]
    for i in range(2):
        keys = gw.keys("AA", 2, seed=20 + i)
        gw.member("AA").upload(keys, tag=f"a-{i}", signature=gw.sign("AA", keys))
        make_download_batches(gw.ctx)
    assert run_gateway_jobs(gw.ctx, receiver)["callbacks"] == 2
    assert calls == [("20261201-1", "2026-12-01"), ("20261201-2", "2026-12-01")]
    fail[0] = True
    keys = gw.keys("AA", 2, seed=30)
    gw.member("AA").upload(keys, tag="a-9", signature=gw.sign("AA", keys))
    make_download_batches(gw.ctx)
    for _ in range(6):
        run_gateway_jobs(gw.ctx, receiver)
        gw.now[0] += gw.ctx.settings.callback_retry_seconds
    assert len(calls) == 2 + 6
    assert gw.http.get("/diagnosiskeys/callback", headers=gw.headers("BB")).json() == []


def test_gateway_stores_no_address_and_only_published_fields(gateway: Gateway) -> None:
    gw = gateway
    keys = gw.keys("AA", 5, seed=40)
    gw.member("AA").upload(keys, tag="a-1", signature=gw.sign("AA", keys))
    from tracewarn.server.gateway.models import GatewayBase

    columns = {c.name for t in GatewayBase.metadata.sorted_tables for c in t.columns}
    assert not {"ip", "ip_address", "user_agent", "client", "phone", "device_id"} & columns
    key_columns = {c.name for c in GatewayKey.__table__.columns}
    # Exactly the wire schema's fields plus bookkeeping, nothing a member does not publish.
    assert key_columns - {"id", "upload_batch_id", "position", "payload_hash"} == {
        "key_data",
        "rolling_start_interval_number",
        "rolling_period",
        "transmission_risk_level",
        "visited_countries",
        "origin",
        "report_type",
        "days_since_onset_of_symptoms",
    }
    with gw.ctx.engine.connect() as conn:
        dump = repr([list(conn.execute(sa.select(t))) for t in GatewayBase.metadata.sorted_tables])
    assert "127.0.0.1" not in dump


def test_bodies_are_bounded_before_authentication(gateway: Gateway) -> None:
    # The backend's request guard runs in front of the gateway too: a declared length over the
    # limit is refused before a byte is read or the caller is identified.
    http = gateway.http
    big = {"Content-Length": str(10**9), "Content-Type": "application/json"}
    for method, path in (("PUT", "/diagnosiskeys/callback/cb1"), ("POST", "/diagnosiskeys/upload")):
        response = http.request(method, path, headers=big, content=b"{}")
        assert response.status_code == 413, (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    small = http.put("/diagnosiskeys/callback/cb1", content=b"x" * (64 * 1024 + 1))
    assert small.status_code == 413


def test_no_documentation_pages_that_load_from_public_cdns(gateway: Gateway) -> None:
    for page in ("/docs", "/redoc"):
        assert gateway.http.get(page).status_code == 404, page
