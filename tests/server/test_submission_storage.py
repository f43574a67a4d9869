"""What an accepted upload stores, field by field, on both databases; header checks; sockets."""

from __future__ import annotations

import os
import socket

import sqlalchemy as sa

from tracewarn.server.distribution.batch import move_staged
from tracewarn.server.models import CheckInReport, DiagnosisKey, StagedUpload, Tan
from tracewarn.server.serve import _listening_sockets
from tracewarn.server.submission.service import distribution_hour, redeem_and_store
from tracewarn.server.submission.validation import (
    SubmissionRules,
    trl_from_dsos,
    validate_submission,
)
from tracewarn.server.verification.service import TanKind

from .conftest import T0, Server, payload_with_keys


def test_stored_rows_equal_the_upload_byte_for_byte(server: Server) -> None:
    payload = payload_with_keys(T0, 5, trl=7)
    payload.keys[1].days_since_onset_of_symptoms = -3
    payload.keys[2].rolling_period = 17
    payload.consentToFederation = True
    low = payload.keys.add(
        key_data=os.urandom(16),
        rolling_start_interval_number=payload.keys[4].rolling_start_interval_number,
        rolling_period=144,
        transmission_risk_level=2,
    )
    reports = [(os.urandom(32), os.urandom(16), os.urandom(16), os.urandom(32)) for _ in range(3)]
    for location, iv, record, mac in reports:
        payload.checkInProtectedReports.add(
            locationIdHash=location, iv=iv, encryptedCheckInRecord=record, mac=mac
        )
    with server.ctx.engine.connect() as conn:
        tans_before = conn.execute(sa.select(sa.func.count()).select_from(Tan)).scalar_one()
    tan = server.tan()
    assert server.upload(payload, tan).status_code == 200
    with server.ctx.engine.connect() as conn:
        staged = conn.execute(sa.select(StagedUpload.hour, StagedUpload.payload)).all()
    assert len(staged) == 1  # one row per upload until the batch moves it
    assert move_staged(server.ctx).uploads == 1

    hour = int(T0) // 3600
    with server.ctx.engine.connect() as conn:
        keys = {r.key_data: r for r in conn.execute(sa.select(DiagnosisKey)).all()}
        stored_reports = conn.execute(
            sa.select(
                CheckInReport.location_id_hash,
                CheckInReport.iv,
                CheckInReport.encrypted_check_in_record,
                CheckInReport.mac,
                CheckInReport.region,
                CheckInReport.release_hour,
            )
        ).all()
        tans_after = conn.execute(sa.select(sa.func.count()).select_from(Tan)).scalar_one()
    assert tans_after == tans_before  # the one issued for this test was consumed
    # A key the CDN would never publish (TRL below `min_published_trl`) is not kept either.
    assert set(keys) == {bytes(k.key_data) for k in payload.keys} - {low.key_data}
    for key in payload.keys[:5]:
        row = keys[bytes(key.key_data)]
        has_dsos = key.HasField("days_since_onset_of_symptoms")
        assert row.rolling_start_interval_number == key.rolling_start_interval_number
        assert row.rolling_period == key.rolling_period
        # Days since onset live on only as the TRL they were turned into.
        assert row.transmission_risk_level == (
            trl_from_dsos(key.days_since_onset_of_symptoms) if has_dsos else 7
        )
        assert "days_since_onset_of_symptoms" not in row._fields
        assert row.package_hour is None
        assert row.release_hour == distribution_hour(
            key.rolling_start_interval_number,
            key.rolling_period,
            submission_hour=hour,
            expiry_policy_minutes=server.ctx.settings.expiry_policy_minutes,
        )
        assert row.submission_type == 0 and row.consent_to_federation is True
        assert row.origin_country == "DE" and row.visited_countries == "DE"
        assert row.is_padding is False
    assert sorted(tuple(r) for r in stored_reports) == sorted((*r, "DE", hour) for r in reports)


def test_a_used_tan_stores_nothing_more(server: Server) -> None:
    tan = server.tan()
    assert server.upload(payload_with_keys(T0, 3), tan).status_code == 200
    move_staged(server.ctx)
    again = payload_with_keys(T0, 3)
    again.checkInProtectedReports.add(
        locationIdHash=b"l" * 32, iv=b"i" * 16, encryptedCheckInRecord=b"e" * 16, mac=b"m" * 32
    )
    r = server.upload(again, tan)
    assert r.status_code == 403 and r.json()["type"].endswith("tan-invalid")
    move_staged(server.ctx)
    with server.ctx.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(DiagnosisKey)).scalar() == 3
        assert conn.execute(sa.select(sa.func.count()).select_from(CheckInReport)).scalar() == 0


def test_bad_tan_and_fake_headers_are_422_problems(server: Server) -> None:
    body = payload_with_keys(T0, 2).SerializeToString()
    for headers in ({"cwa-authorization": "x" * 65}, {"cwa-authorization": "t", "cwa-fake": "2"}):
        r = server.client.post(
            "/version/v1/diagnosis-keys",
            content=body,
            headers={"content-type": "application/x-protobuf", **headers},
        )
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("invalid-request")
        assert len(r.content) == server.ctx.settings.response_size_bytes
    r = server.client.post(
        "/version/v1/diagnosis-keys",
        content=body,
        headers={"content-type": "application/x-protobuf", "cwa-authorization": "not-a-tan"},
    )
    assert r.status_code == 403


def test_worker_sockets_share_one_port() -> None:
    socks = _listening_sockets("127.0.0.1", 0, 3)
    try:
        ports = {s.getsockname()[1] for s in socks}
        assert len(ports) == 1 and 0 not in ports
        with socket.create_connection(("127.0.0.1", ports.pop()), timeout=5):
            pass
    finally:
        for s in socks:
            s.close()


def test_sync_redeem_and_store_consumes_the_tan_once(server: Server) -> None:
    # The HTTP route awaits the async variant on PostgreSQL; the sync one serves other callers.
    valid = validate_submission(
        payload_with_keys(T0, 4), now=int(T0), rules=SubmissionRules(), host_warning=False
    )
    tan = server.tan()
    assert redeem_and_store(server.ctx, tan=tan, kind=TanKind.SUBMISSION, valid=valid)
    assert not redeem_and_store(server.ctx, tan=tan, kind=TanKind.SUBMISSION, valid=valid)
    other = server.tan()
    assert not redeem_and_store(server.ctx, tan=other, kind=TanKind.HOST_WARNING, valid=valid)
    move_staged(server.ctx)
    with server.ctx.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(DiagnosisKey)).scalar() == 4
