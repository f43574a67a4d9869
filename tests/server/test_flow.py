"""The whole path lab -> code -> TAN -> upload -> publish -> download -> verify, on both databases."""

from __future__ import annotations

import hashlib

from tracewarn.protocol.gaen import load_public_key, verify_export
from tracewarn.protocol.verification import is_teletan, is_uuid4
from tracewarn.server.distribution.publish import cdn_encoding, publish

from .conftest import Server, payload_with_keys


def _published_keys(server: Server, region: str = "DE") -> dict[str, set[bytes]]:
    """Every package of the region after signature verification: path -> key bytes."""
    keys = server.client.get("/version/v1/signing-keys").json()["keys"]
    pub = {(k["keyId"], k["keyVersion"]): load_public_key(k["publicKeyPem"].encode()) for k in keys}
    out: dict[str, set[bytes]] = {}
    base = f"/version/v1/diagnosis-keys/country/{region}/date"
    days = server.client.get(base).json()
    for day in days:
        out[f"{base}/{day}"] = {
            k.key_data
            for k in verify_export(server.client.get(f"{base}/{day}").content, pub).export.keys
        }
    for day in {*days, *_hour_days(server, region)}:
        hours = server.client.get(f"{base}/{day}/hour")
        for hour in hours.json() if hours.status_code == 200 else []:
            z = server.client.get(f"{base}/{day}/hour/{hour}")
            assert z.status_code == 200, (f"{base}/{day}/hour/{hour}", z.text[:200])
            out[f"{base}/{day}/hour/{hour}"] = {
                k.key_data for k in verify_export(z.content, pub).export.keys
            }
    return out


def _hour_days(server: Server, region: str) -> list[str]:
    import datetime as dt

    start = dt.datetime.fromtimestamp(server.now[0], dt.UTC).date()
    return [(start - dt.timedelta(days=d)).isoformat() for d in range(16)]


def test_whole_flow_keys_arrive_signed(server: Server) -> None:
    code = server.code()
    r = server.register_code(code)
    assert r.status_code == 201 and len(r.content) == 1024
    token = r.json()["registrationToken"]
    assert is_uuid4(token)
    assert (
        server.client.post("/version/v1/testresult", json={"registrationToken": token}).json()[
            "testResult"
        ]
        == 2
    )
    r = server.client.post("/version/v1/tan", json={"registrationToken": token})
    assert r.status_code == 201
    tan = r.json()["tan"]
    payload = payload_with_keys(server.now[0])
    r = server.upload(payload, tan)
    assert r.status_code == 200, r.text
    uploaded = {k.key_data for k in payload.keys}

    # Nothing before the hour is over, and today's key not before midnight + 2 h.
    assert publish(server.ctx).hourly == []
    server.advance(3600)
    publish(server.ctx)
    packages = _published_keys(server)
    assert set().union(*packages.values()) >= uploaded - {payload.keys[0].key_data}
    assert payload.keys[0].key_data not in set().union(*packages.values())

    server.advance(2 * 86400)
    report = publish(server.ctx)
    assert report.daily, "both days are complete now"
    packages = _published_keys(server)
    assert uploaded <= set().union(*packages.values())
    daily = {p: k for p, k in packages.items() if "/hour/" not in p}
    assert uploaded <= set().union(*daily.values())
    for path, keys in packages.items():
        assert len(keys) >= 140, f"{path} is padded to 140 keys"
    # The daily package is exactly the union of its hours: padding cannot be told from keys.
    for day_path, keys in daily.items():
        hours = [k for p, k in packages.items() if p.startswith(day_path + "/hour/")]
        assert keys == set().union(*hours)
    assert (
        server.client.post("/version/v1/testresult", json={"registrationToken": token}).json()[
            "testResult"
        ]
        == 4
    )


def test_published_keys_carry_cwa_cdn_encoding(server: Server) -> None:
    payload = payload_with_keys(server.now[0], 3, trl=7)
    assert server.upload(payload, server.tan()).status_code == 200
    server.advance(3 * 86400)
    publish(server.ctx)
    keys = server.client.get("/version/v1/signing-keys").json()["keys"]
    pub = load_public_key(keys[0]["publicKeyPem"].encode())
    day = server.client.get("/version/v1/diagnosis-keys/country/DE/date").json()[-1]
    export = verify_export(
        server.client.get(f"/version/v1/diagnosis-keys/country/DE/date/{day}").content, pub
    ).export
    mine = [k for k in export.keys if k.key_data in {p.key_data for p in payload.keys}]
    assert mine and all(
        (k.report_type, k.days_since_onset_of_symptoms) == cdn_encoding(7) == (1, 1) for k in mine
    )
    assert all(k.transmission_risk_level == 7 for k in mine)
    assert [k.key_data for k in export.keys] == sorted(k.key_data for k in export.keys)


def test_tan_reuse_is_rejected_and_stores_nothing_more(server: Server) -> None:
    tan = server.tan()
    assert server.upload(payload_with_keys(server.now[0], 2), tan).status_code == 200
    r = server.upload(payload_with_keys(server.now[0], 2), tan)
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("tan-invalid")


def test_expired_code_is_rejected(server: Server) -> None:
    code = server.code()
    # Expiry is stored rounded up to the hour (no second-precise times, docs/privacy.md).
    server.advance(25 * 3600)
    r = server.register_code(code)
    assert r.status_code == 400 and r.json()["type"].endswith("code-expired")


def test_code_registers_once(server: Server) -> None:
    code = server.code()
    assert server.register_code(code).status_code == 201
    r = server.register_code(code)
    assert r.status_code == 400 and r.json()["type"].endswith("code-redeemed")


def test_unknown_code_and_token(server: Server) -> None:
    r = server.register_code("ABCDEF-" + "0" * 8 + "-0000-4000-8000-" + "0" * 12)
    assert r.status_code == 400
    r = server.client.post(
        "/version/v1/tan", json={"registrationToken": "00000000-0000-4000-8000-000000000000"}
    )
    assert r.status_code == 403


def test_negative_and_pending_results_get_no_tan_until_positive(server: Server) -> None:
    code = server.code("pending")
    token = server.register_code(code).json()["registrationToken"]
    r = server.client.post("/version/v1/tan", json={"registrationToken": token})
    assert r.status_code == 400 and r.json()["type"].endswith("not-positive")
    assert (
        server.client.post("/version/v1/testresult", json={"registrationToken": token}).json()[
            "testResult"
        ]
        == 0
    )
    r = server.client.post(
        "/version/v1/lab/results",
        json={"result": "positive", "code": code},
        headers={"X-API-Key": server.lab_key},
    )
    assert r.status_code == 200
    assert (
        server.client.post("/version/v1/testresult", json={"registrationToken": token}).json()[
            "testResult"
        ]
        == 2
    )
    assert (
        server.client.post("/version/v1/tan", json={"registrationToken": token}).status_code == 201
    )
    r = server.client.post("/version/v1/tan", json={"registrationToken": token})
    assert r.status_code == 400 and r.json()["type"].endswith("tan-limit")


def test_expired_tan_is_rejected(server: Server) -> None:
    tan = server.tan()
    server.advance(14 * 86400 + 3600)  # expiry rounded up to the hour
    assert server.upload(payload_with_keys(server.now[0], 2), tan).status_code == 403


def test_lab_and_hotline_need_their_own_keys(server: Server) -> None:
    assert (
        server.client.post("/version/v1/lab/results", json={"result": "positive"}).status_code
        == 401
    )
    r = server.client.post(
        "/version/v1/lab/results",
        json={"result": "positive"},
        headers={"X-API-Key": server.hotline_key},
    )
    assert r.status_code == 403
    assert (
        server.client.post(
            "/version/v1/tan/teletan", headers={"X-API-Key": server.lab_key}
        ).status_code
        == 403
    )
    assert (
        server.client.post("/version/v1/tan/teletan", headers={"X-API-Key": "nope"}).status_code
        == 401
    )


def test_teletan_flow_and_expiry(server: Server) -> None:
    r = server.client.post("/version/v1/tan/teletan", headers={"X-API-Key": server.hotline_key})
    assert r.status_code == 201
    teletan = r.json()["teleTan"]
    assert is_teletan(teletan)
    token = server.client.post(
        "/version/v1/registrationToken", json={"keyType": "TELETAN", "key": teletan}
    ).json()["registrationToken"]
    tan = server.client.post("/version/v1/tan", json={"registrationToken": token}).json()["tan"]
    assert server.upload(payload_with_keys(server.now[0], 3), tan).status_code == 200
    # single use
    r = server.client.post(
        "/version/v1/registrationToken", json={"keyType": "TELETAN", "key": teletan}
    )
    assert r.status_code == 400
    late = server.client.post(
        "/version/v1/tan/teletan", headers={"X-API-Key": server.hotline_key}
    ).json()["teleTan"]
    server.advance(2 * 3600)  # 1 h lifetime, expiry rounded up to the hour
    r = server.client.post(
        "/version/v1/registrationToken", json={"keyType": "TELETAN", "key": late}
    )
    assert r.status_code == 400 and r.json()["type"].endswith("teletan-expired")


def test_teletan_quota(make_server: object) -> None:
    server: Server = make_server(teletans_per_hour=2)  # type: ignore[operator]
    for _ in range(2):
        assert (
            server.client.post(
                "/version/v1/tan/teletan", headers={"X-API-Key": server.hotline_key}
            ).status_code
            == 201
        )
    r = server.client.post("/version/v1/tan/teletan", headers={"X-API-Key": server.hotline_key})
    assert r.status_code == 429 and r.json()["status"] == 429


def _report(location_hash: bytes) -> dict[str, bytes]:
    import os

    return {
        "locationIdHash": location_hash,
        "iv": os.urandom(16),
        "encryptedCheckInRecord": os.urandom(16),
        "mac": os.urandom(32),
    }


def test_host_warning_flow_publishes_a_signed_trace_warning_package(server: Server) -> None:
    from tracewarn.protocol.gaen import read_export  # noqa: F401 - zip helpers live with exports
    from tracewarn.protocol.presence.warning import decode_trace_warning_package
    from tracewarn.protocol.proto import submission_pb2

    teletan = server.client.post(
        "/version/v1/tan/teletan",
        headers={"X-API-Key": server.hotline_key, "X-CWA-TELETAN-TYPE": "EVENT"},
    ).json()["teleTan"]
    token = server.client.post(
        "/version/v1/registrationToken", json={"keyType": "TELETAN", "key": teletan}
    ).json()["registrationToken"]
    tan = server.client.post("/version/v1/tan", json={"registrationToken": token}).json()["tan"]
    location = hashlib.sha256(b"venue").digest()
    payload = submission_pb2.SubmissionPayload(
        submissionType=submission_pb2.SubmissionPayload.SUBMISSION_TYPE_HOST_WARNING
    )
    for _ in range(3):
        payload.checkInProtectedReports.add(**_report(location))
    # An event TAN cannot upload keys on the normal endpoint.
    assert server.upload(payload_with_keys(server.now[0], 1), tan).status_code == 403
    r = server.upload(payload, tan, path="/version/v1/submission-on-behalf")
    assert r.status_code == 200, r.text
    server.advance(3600)
    publish(server.ctx)
    index = server.client.get("/version/v2/twp/country/DE/hour").json()
    assert index["oldest"] == index["latest"] == int(server.now[0]) // 3600 - 1
    z = server.client.get(f"/version/v2/twp/country/DE/hour/{index['latest']}")
    assert z.status_code == 200 and z.headers["cache-control"].startswith("public")
    import io
    import zipfile

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from tracewarn.protocol.proto import export_pb2

    with zipfile.ZipFile(io.BytesIO(z.content)) as archive:
        export_bin, export_sig = archive.read("export.bin"), archive.read("export.sig")
    package = decode_trace_warning_package(export_bin)
    assert package.region == "DE" and len(package.reports) == 3
    assert {r.location_id_hash for r in package.reports} == {location}
    signature = export_pb2.TEKSignatureList.FromString(export_sig).signatures[0].signature
    pem = server.client.get("/version/v1/signing-keys").json()["keys"][0]["publicKeyPem"]
    load_public_key(pem.encode()).verify(signature, export_bin, ec.ECDSA(hashes.SHA256()))


def test_host_warning_rules(server: Server) -> None:
    from tracewarn.protocol.proto import submission_pb2

    def event_tan() -> str:
        t = server.client.post(
            "/version/v1/tan/teletan",
            headers={"X-API-Key": server.hotline_key, "X-CWA-TELETAN-TYPE": "EVENT"},
        ).json()["teleTan"]
        token = server.client.post(
            "/version/v1/registrationToken", json={"keyType": "TELETAN", "key": t}
        ).json()["registrationToken"]
        return str(
            server.client.post("/version/v1/tan", json={"registrationToken": token}).json()["tan"]
        )

    tan = event_tan()
    two_venues = submission_pb2.SubmissionPayload(submissionType=2)
    two_venues.checkInProtectedReports.add(**_report(b"a" * 32))
    two_venues.checkInProtectedReports.add(**_report(b"b" * 32))
    assert (
        server.upload(two_venues, tan, path="/version/v1/submission-on-behalf").status_code == 400
    )
    normal_type = submission_pb2.SubmissionPayload(submissionType=0)
    normal_type.checkInProtectedReports.add(**_report(b"a" * 32))
    assert (
        server.upload(normal_type, tan, path="/version/v1/submission-on-behalf").status_code == 400
    )
    # the rejected payloads did not use up the TAN
    ok = submission_pb2.SubmissionPayload(submissionType=2)
    ok.checkInProtectedReports.add(**_report(b"a" * 32))
    assert server.upload(ok, tan, path="/version/v1/submission-on-behalf").status_code == 200
    # a normal TAN is not accepted for a host warning
    ok2 = submission_pb2.SubmissionPayload(submissionType=2)
    ok2.checkInProtectedReports.add(**_report(b"a" * 32))
    assert (
        server.upload(ok2, server.tan(), path="/version/v1/submission-on-behalf").status_code == 403
    )


def test_keys_reach_visited_regions_only_with_consent(make_server: object) -> None:
    server: Server = make_server(regions=["DE", "FR", "NL"])  # type: ignore[operator]
    shared = payload_with_keys(server.now[0], 3)
    shared.visitedCountries.append("FR")
    shared.consentToFederation = True
    private = payload_with_keys(server.now[0], 3)
    private.visitedCountries.append("NL")
    assert server.upload(shared, server.tan()).status_code == 200
    assert server.upload(private, server.tan()).status_code == 200
    server.advance(2 * 86400)
    publish(server.ctx)
    assert server.client.get("/version/v1/diagnosis-keys/country").json() == ["DE", "FR", "NL"]
    de, fr, nl = (
        set().union(set(), *_published_keys(server, r).values()) for r in ("DE", "FR", "NL")
    )
    shared_keys = {k.key_data for k in shared.keys}
    private_keys = {k.key_data for k in private.keys}
    assert shared_keys | private_keys <= de
    assert shared_keys <= fr and not private_keys & fr
    assert not (shared_keys | private_keys) & nl
    assert server.client.get("/version/v1/diagnosis-keys/country/NL/date").json() == []
    # FR's padding is FR's own: DE's packages carry none of it
    assert len(fr - shared_keys) >= 140 - len(shared_keys) and not (fr - shared_keys) & de
