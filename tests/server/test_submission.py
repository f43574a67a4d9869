"""Submission validation (CWA rules), fakes, JSON form, size limits, hold-back of valid keys."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
import sqlalchemy as sa
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from tracewarn.protocol.errors import SubmissionFormatError
from tracewarn.protocol.proto import submission_pb2
from tracewarn.server.distribution.batch import move_staged
from tracewarn.server.distribution.publish import publish
from tracewarn.server.models import Base, DiagnosisKey
from tracewarn.server.submission.service import distribution_hour
from tracewarn.server.submission.validation import (
    SubmissionRules,
    trl_from_dsos,
    validate_submission,
)

from .conftest import T0, Server, payload_with_keys


def snapshot(server: Server) -> dict[str, list[tuple[Any, ...]]]:
    with server.ctx.engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
            for t in Base.metadata.sorted_tables
            if t.name != "rate_limit_hit"  # request counters, not stored data
        }


def _mutated(change: str) -> submission_pb2.SubmissionPayload:
    payload = payload_with_keys(T0, 3)
    key = payload.keys[1]
    if change == "short key":
        key.key_data = b"x" * 15
    elif change == "not midnight":
        key.rolling_start_interval_number += 1
    elif change == "period 0":
        key.rolling_period = 0
    elif change == "period 145":
        key.rolling_period = 145
    elif change == "no trl or dsos":
        key.ClearField("transmission_risk_level")
    elif change == "trl 9":
        key.transmission_risk_level = 9
    elif change == "duplicate key":
        key.key_data = payload.keys[0].key_data
    elif change == "origin":
        payload.origin = "FR"
    elif change == "visited":
        payload.visitedCountries.append("XX")
    elif change == "self report":
        payload.submissionType = submission_pb2.SubmissionPayload.SUBMISSION_TYPE_SRS_SELF_TEST
    elif change == "report sizes":
        payload.checkInProtectedReports.add(
            locationIdHash=b"a" * 32, iv=b"b" * 16, encryptedCheckInRecord=b"c" * 32, mac=b"d" * 32
        )
    elif change == "legacy checkin trl":
        payload.checkIns.add(
            locationId=b"l" * 32,
            startIntervalNumber=10,
            endIntervalNumber=12,
            transmissionRiskLevel=0,
        )
    elif change == "too many keys":
        for _ in range(13):
            extra = payload.keys.add()
            extra.CopyFrom(payload.keys[0])
            extra.key_data = os.urandom(16)
            extra.rolling_start_interval_number -= 144 * 20
    elif change == "empty":
        del payload.keys[:]
    return payload


@pytest.mark.parametrize(
    "change",
    [
        "short key",
        "not midnight",
        "period 0",
        "period 145",
        "no trl or dsos",
        "trl 9",
        "duplicate key",
        "origin",
        "visited",
        "self report",
        "report sizes",
        "legacy checkin trl",
        "too many keys",
        "empty",
    ],
)
def test_invalid_payloads_are_400_and_keep_the_tan(server: Server, change: str) -> None:
    tan = server.tan()
    before = snapshot(server)
    r = server.upload(_mutated(change), tan)
    assert r.status_code == 400, (change, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert snapshot(server) == before
    assert server.upload(payload_with_keys(server.now[0], 2), tan).status_code == 200


def test_fake_upload_stores_nothing_and_looks_like_a_real_one(server: Server) -> None:
    tan = server.tan()
    before = snapshot(server)
    fake = server.upload(
        payload_with_keys(server.now[0]), "00000000-0000-4000-8000-000000000000", fake=True
    )
    assert snapshot(server) == before
    real = server.upload(payload_with_keys(server.now[0]), tan)
    assert snapshot(server) != before
    assert (fake.status_code, len(fake.content), fake.headers["content-type"]) == (
        real.status_code,
        len(real.content),
        real.headers["content-type"],
    )
    assert sorted(fake.headers.keys()) == sorted(real.headers.keys())


def test_fake_verification_requests_store_nothing(server: Server) -> None:
    before = snapshot(server)
    for path, body, status in [
        ("/version/v1/registrationToken", {"keyType": "GUID", "key": "a" * 64}, 201),
        ("/version/v1/tan", {"registrationToken": "00000000-0000-4000-8000-000000000000"}, 201),
        (
            "/version/v1/testresult",
            {"registrationToken": "00000000-0000-4000-8000-000000000000"},
            200,
        ),
    ]:
        r = server.client.post(path, json=body, headers={"cwa-fake": "1"})
        assert (r.status_code, len(r.content)) == (status, 1024)
    assert snapshot(server) == before


def test_json_form_is_accepted(server: Server) -> None:
    payload = payload_with_keys(server.now[0], 2, trl=5)
    body = {
        "keys": [
            {
                "keyData": base64.b64encode(k.key_data).decode(),
                "rollingStartIntervalNumber": k.rolling_start_interval_number,
                "rollingPeriod": 144,
                "daysSinceOnsetOfSymptoms": 3,
            }
            for k in payload.keys
        ],
        "visitedCountries": ["DE"],
        "checkInProtectedReports": [
            {
                "locationIdHash": base64.b64encode(b"h" * 32).decode(),
                "iv": base64.b64encode(b"i" * 16).decode(),
                "encryptedCheckInRecord": base64.b64encode(b"e" * 16).decode(),
                "mac": base64.b64encode(b"m" * 32).decode(),
            }
        ],
    }
    r = server.client.post(
        "/version/v1/diagnosis-keys", json=body, headers={"cwa-authorization": server.tan()}
    )
    assert r.status_code == 200, r.text
    move_staged(server.ctx)
    with server.ctx.sessions() as session:
        rows = session.scalars(sa.select(DiagnosisKey)).all()
    assert {r.key_data for r in rows} == {k.key_data for k in payload.keys}
    assert {r.transmission_risk_level for r in rows} == {trl_from_dsos(3)} == {5}


def test_bad_json_and_bad_protobuf_are_400(server: Server) -> None:
    tan = server.tan()
    r = server.client.post(
        "/version/v1/diagnosis-keys",
        json={"keys": [{"keyData": "%%%", "rollingStartIntervalNumber": 1}]},
        headers={"cwa-authorization": tan},
    )
    assert r.status_code == 400
    r = server.client.post(
        "/version/v1/diagnosis-keys",
        content=b"\x0a\xff\xff",
        headers={"cwa-authorization": tan, "content-type": "application/x-protobuf"},
    )
    assert r.status_code == 400
    r = server.client.post(
        "/version/v1/diagnosis-keys",
        content=b"x",
        headers={"cwa-authorization": tan, "content-type": "text/plain"},
    )
    assert r.status_code == 415


def test_oversized_request_is_413(server: Server) -> None:
    r = server.client.post(
        "/version/v1/diagnosis-keys",
        content=b"\x12" + b"\x00" * 100_001,
        headers={"cwa-authorization": server.tan(), "content-type": "application/x-protobuf"},
    )
    assert r.status_code == 413 and r.json()["status"] == 413


def test_old_and_future_keys_are_dropped(server: Server) -> None:
    payload = payload_with_keys(server.now[0], 2)
    old = payload.keys.add(
        key_data=os.urandom(16),
        rolling_start_interval_number=payload.keys[0].rolling_start_interval_number - 144 * 15,
        rolling_period=144,
        transmission_risk_level=5,
    )
    future = payload.keys.add(
        key_data=os.urandom(16),
        rolling_start_interval_number=payload.keys[0].rolling_start_interval_number + 144,
        rolling_period=144,
        transmission_risk_level=5,
    )
    assert server.upload(payload, server.tan()).status_code == 200
    move_staged(server.ctx)
    with server.ctx.sessions() as session:
        stored = {r.key_data for r in session.scalars(sa.select(DiagnosisKey)).all()}
    assert old.key_data not in stored and future.key_data not in stored and len(stored) == 2


def test_valid_key_is_held_back_until_expiry_plus_two_hours(server: Server) -> None:
    payload = payload_with_keys(server.now[0], 1)  # only today's key, valid until midnight
    key = payload.keys[0]
    assert server.upload(payload, server.tan()).status_code == 200
    expiry = (key.rolling_start_interval_number + 144) * 600
    assert (
        distribution_hour(
            key.rolling_start_interval_number,
            144,
            submission_hour=int(server.now[0]) // 3600,
            expiry_policy_minutes=120,
        )
        == (expiry + 7200) // 3600
    )

    def published() -> bool:
        for name in server.ctx.blobs.list("version/v1/diagnosis-keys/"):
            data = server.ctx.blobs.get(name)
            if data and data.startswith(b"PK"):
                from tracewarn.protocol.gaen import read_export

                if key.key_data in {k.key_data for k in read_export(data).keys}:
                    return True
        return False

    for moment in (expiry - 60, expiry + 3600, expiry + 7200 - 1, expiry + 7200 + 3599):
        server.now[0] = moment
        publish(server.ctx)
        assert not published(), f"published at expiry{moment - expiry:+d}s"
    server.now[0] = expiry + 7200 + 3600
    publish(server.ctx)
    assert published()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_a_submission_error_or_a_valid_result(data: bytes) -> None:
    try:
        payload = submission_pb2.SubmissionPayload.FromString(data)
    except DecodeError:
        return
    try:
        valid = validate_submission(payload, now=T0, rules=SubmissionRules())
    except SubmissionFormatError:
        return
    assert all(len(k.key_data) == 16 and 1 <= k.transmission_risk_level <= 8 for k in valid.keys)
