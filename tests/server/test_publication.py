"""Publication follows what is not published yet; thresholds, shuffling and population padding.

The first tests force the interleaving of issue 11, item 3: an upload whose hour was computed
before the publisher packaged that hour, but which commits after it. It must appear in a later
package, never be skipped.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import sqlalchemy as sa

from tracewarn.protocol.gaen import load_public_key, verify_export, verify_signed_zip
from tracewarn.protocol.presence.warning import decode_trace_warning_package
from tracewarn.protocol.proto import submission_pb2
from tracewarn.server.distribution import layout
from tracewarn.server.distribution.publish import publish
from tracewarn.server.models import CheckInReport, DiagnosisKey, StagedUpload
from tracewarn.server.submission import service
from tracewarn.server.submission.staging import pack_upload
from tracewarn.server.submission.validation import SubmissionRules, validate_submission

from .conftest import Server, payload_with_keys

DEFAULTS: dict[str, Any] = {
    "min_uploads_per_batch": 10,
    "min_keys_to_publish": 140,
    "min_uploads_to_publish_checkins": 5,
}


def _all_published_keys(server: Server) -> set[bytes]:
    keys = server.client.get("/version/v1/signing-keys").json()["keys"]
    pub = {(k["keyId"], k["keyVersion"]): load_public_key(k["publicKeyPem"].encode()) for k in keys}
    out: set[bytes] = set()
    for name in server.ctx.blobs.list("version/v1/diagnosis-keys/country/DE/date/"):
        data = server.ctx.blobs.get(name)
        if data and data.startswith(b"PK"):
            out |= {k.key_data for k in verify_export(data, pub).export.keys}
    return out


def _warning_packages(server: Server) -> dict[int, list[bytes]]:
    keys = server.client.get("/version/v1/signing-keys").json()["keys"]
    pub = {(k["keyId"], k["keyVersion"]): load_public_key(k["publicKeyPem"].encode()) for k in keys}
    index = server.client.get("/version/v2/twp/country/DE/hour").json()
    out = {}
    for hour in range(index["oldest"], index["latest"] + 1):
        data = server.client.get(f"/version/v2/twp/country/DE/hour/{hour}").content
        package = decode_trace_warning_package(verify_signed_zip(data, pub))
        out[hour] = [r.mac for r in package.reports]
    return out


def _staged_hour_before_publish(server: Server) -> tuple[set[bytes], int]:
    """Stage an upload stamped with the current hour, but only after that hour was packaged."""
    hour = int(server.now[0]) // 3600
    first = payload_with_keys(server.now[0], 3)
    assert server.upload(first, server.tan()).status_code == 200
    server.advance(3600)
    publish(server.ctx)  # packages `hour`
    assert layout.read_json(server.ctx.blobs, layout.hour_index("DE", layout.day_of(hour)))
    late = payload_with_keys(server.now[0] - 3600, 3)
    valid = validate_submission(
        late, now=int(server.now[0]), rules=SubmissionRules(), host_warning=False
    )
    with server.ctx.engine.begin() as conn:
        conn.execute(
            sa.insert(StagedUpload),
            {"id": os.urandom(16), "hour": hour, "payload": pack_upload(valid)},
        )
    return {k.key_data for k in late.keys}, hour


def test_an_upload_committed_after_its_hour_was_packaged_is_published_later(
    server: Server,
) -> None:
    late, _hour = _staged_hour_before_publish(server)
    server.advance(3 * 86400)
    publish(server.ctx)
    assert late <= _all_published_keys(server)
    with server.ctx.engine.connect() as conn:
        pending = conn.execute(
            sa.select(sa.func.count())
            .select_from(DiagnosisKey)
            .where(DiagnosisKey.package_hour.is_(None))
        ).scalar()
    assert pending == 0


def test_upload_waiting_for_a_connection_while_publish_runs_is_not_lost(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real HTTP path on PostgreSQL, with the publisher run between the moment the upload
    computed its hour and its commit (where it would wait for a pooled connection)."""
    if server.ctx.engine.dialect.name != "postgresql":
        pytest.skip("the upload's async connection pool exists on PostgreSQL only")
    original = service.redeem_and_store_pg_async
    ran: list[int] = []

    async def late_commit(engine: Any, params: dict[str, Any], *, connections: int) -> bool:
        # The upload's parameters (and hour) are fixed; now the hour ends and is packaged.
        server.advance(3600)
        ran.append(len(publish(server.ctx).hourly))
        return await original(engine, params, connections=connections)

    # Someone else's upload of the same hour commits in time, so the hour does get a package.
    assert server.upload(payload_with_keys(server.now[0], 3), server.tan()).status_code == 200
    monkeypatch.setattr(service, "redeem_and_store_pg_async", late_commit)
    payload = payload_with_keys(server.now[0], 3)
    assert server.upload(payload, server.tan()).status_code == 200
    monkeypatch.setattr(service, "redeem_and_store_pg_async", original)
    assert ran == [1]  # the publisher packaged the upload's hour before the upload committed
    server.advance(3 * 86400)
    publish(server.ctx)
    assert {k.key_data for k in payload.keys} <= _all_published_keys(server)


def _upload_reports(server: Server, count: int, reports: int = 2) -> list[bytes]:
    macs = []
    for _ in range(count):
        payload = payload_with_keys(server.now[0], 14)
        for _ in range(reports):
            mac = os.urandom(32)
            macs.append(mac)
            payload.checkInProtectedReports.add(
                locationIdHash=os.urandom(32),
                iv=os.urandom(16),
                encryptedCheckInRecord=os.urandom(16),
                mac=mac,
            )
        assert server.upload(payload, server.tan()).status_code == 200
    return macs


def test_thresholds_hold_back_batches_keys_and_reports(make_server: Any) -> None:
    server: Server = make_server(**DEFAULTS)
    first = _upload_reports(server, 9)
    server.advance(3600)
    report = publish(server.ctx)
    assert report.batch_uploads == 0 and not report.hourly  # 9 uploads: not a batch yet
    with server.ctx.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(StagedUpload)).scalar() == 9
    second = _upload_reports(server, 2)  # 11 uploads, 11 x 13 = 143 expired keys
    server.advance(3600)
    report = publish(server.ctx)
    assert report.batch_uploads == 11 and len(report.hourly) == 1
    with server.ctx.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(StagedUpload)).scalar() == 0
    packages = _warning_packages(server)
    published = [mac for macs in packages.values() for mac in macs]
    assert sorted(published) == sorted(first + second)
    # One package holds all 22 reports, and not in upload order.
    (full,) = [macs for macs in packages.values() if macs]
    assert full != first + second


def test_keys_below_the_threshold_wait_and_merge_into_a_later_package(make_server: Any) -> None:
    server: Server = make_server(min_keys_to_publish=20)
    small = payload_with_keys(server.now[0], 10)  # 9 expired keys now, today's after midnight
    assert server.upload(small, server.tan()).status_code == 200
    server.advance(3600)
    assert publish(server.ctx).hourly == []
    more = payload_with_keys(server.now[0], 12)
    assert server.upload(more, server.tan()).status_code == 200
    server.advance(3600)
    report = publish(server.ctx)
    assert len(report.hourly) == 1
    expired = {k.key_data for k in small.keys[1:]} | {k.key_data for k in more.keys[1:]}
    assert expired <= _all_published_keys(server)


def test_padding_copies_earlier_packages_not_the_hours_own_keys(make_server: Any) -> None:
    server: Server = make_server()
    early = payload_with_keys(server.now[0], 5, trl=3)
    assert server.upload(early, server.tan()).status_code == 200
    server.advance(3600)
    publish(server.ctx)
    late = payload_with_keys(server.now[0], 5, trl=8)
    assert server.upload(late, server.tan()).status_code == 200
    server.advance(3600)
    publish(server.ctx)
    hour = int(server.now[0]) // 3600 - 1
    with server.ctx.engine.connect() as conn:
        padding = conn.execute(
            sa.select(DiagnosisKey.transmission_risk_level).where(
                DiagnosisKey.package_hour == hour, DiagnosisKey.is_padding.is_(True)
            )
        ).scalars()
        trls = set(padding)
    # The hour's own keys all have TRL 8; its padding follows the earlier package (TRL 3).
    assert trls == {3}


def test_reports_get_random_ids_and_no_upload_time(server: Server) -> None:
    _upload_reports(server, 1, reports=4)
    publish(server.ctx)
    with server.ctx.engine.connect() as conn:
        rows = conn.execute(sa.select(CheckInReport.id)).scalars().all()
    assert len(rows) == 4 and all(len(r) == 16 for r in rows) and len(set(rows)) == 4
    assert "submission_hour" not in CheckInReport.__table__.columns


def test_host_warning_payload_round_trips_through_staging(server: Server) -> None:
    payload = submission_pb2.SubmissionPayload(submissionType=2)
    payload.checkInProtectedReports.add(
        locationIdHash=b"l" * 32, iv=b"i" * 16, encryptedCheckInRecord=b"e" * 16, mac=b"m" * 32
    )
    valid = validate_submission(
        payload, now=int(server.now[0]), rules=SubmissionRules(), host_warning=True
    )
    from tracewarn.server.submission.staging import unpack_upload

    unpacked = unpack_upload(pack_upload(valid))
    assert unpacked.submission_type == 2 and unpacked.keys == ()
    assert unpacked.reports == valid.reports
