"""Retention after 14 days, and signing-key rotation."""

from __future__ import annotations

import sqlalchemy as sa

from tracewarn.protocol.gaen import load_public_key, verify_export
from tracewarn.server.distribution.publish import publish
from tracewarn.server.distribution.signing import create_signing_key, retire_signing_key
from tracewarn.server.models import Base, DiagnosisKey, SigningKey
from tracewarn.server.retention import cleanup

from .conftest import Server, payload_with_keys


def _counts(server: Server) -> dict[str, int]:
    with server.ctx.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }


def test_cleanup_deletes_rows_and_files_after_14_days(server: Server) -> None:
    assert server.upload(payload_with_keys(server.now[0], 3), server.tan()).status_code == 200
    server.code()  # an unused code
    server.advance(2 * 86400)
    publish(server.ctx)
    days = server.client.get("/version/v1/diagnosis-keys/country/DE/date").json()
    assert days
    cleanup(server.ctx)
    assert _counts(server)["diagnosis_key"] > 0, "young data stays"
    server.advance(15 * 86400)
    report = cleanup(server.ctx)
    counts = _counts(server)
    for table in (
        "diagnosis_key",
        "test_code",
        "registration_token",
        "tan",
        "teletan",
        "checkin_report",
    ):
        assert counts[table] == 0, table
    assert counts["signing_key"] == 1
    assert report.files > 0
    assert server.client.get("/version/v1/diagnosis-keys/country/DE/date").json() == []
    for day in days:
        assert (
            server.client.get(f"/version/v1/diagnosis-keys/country/DE/date/{day}").status_code
            == 404
        )


def test_rotation_signs_with_both_keys_until_retired(server: Server) -> None:
    assert server.upload(payload_with_keys(server.now[0], 2), server.tan()).status_code == 200
    with server.ctx.sessions.begin() as session:
        create_signing_key(session, server.ctx, region="DE", key_id="262")
        create_signing_key(session, server.ctx, region="DE")
    server.advance(3600)
    publish(server.ctx)
    keys = server.client.get("/version/v1/signing-keys").json()["keys"]
    assert [(k["keyId"], k["keyVersion"]) for k in keys] == [("262", "v1"), ("262", "v2")]
    pubs = {
        (k["keyId"], k["keyVersion"]): load_public_key(k["publicKeyPem"].encode()) for k in keys
    }
    day = server.client.get("/version/v1/diagnosis-keys/country/DE/date/2026-11-27/hour").json()[0]
    package = server.client.get(
        f"/version/v1/diagnosis-keys/country/DE/date/2026-11-27/hour/{day}"
    ).content
    verified = verify_export(package, pubs)
    assert [i.verification_key_version for i in verified.verified_by] == ["v2", "v1"]
    for pub in pubs.values():
        verify_export(package, pub)
    with server.ctx.sessions.begin() as session:
        retire_signing_key(session, server.ctx, region="DE", key_version="v1")
        assert (
            session.scalars(sa.select(SigningKey).where(SigningKey.retired_at.is_not(None)))
            .one()
            .key_version
            == "v1"
        )
    assert server.upload(payload_with_keys(server.now[0], 2), server.tan()).status_code == 200
    server.advance(3600)
    publish(server.ctx)
    hours = server.client.get("/version/v1/diagnosis-keys/country/DE/date/2026-11-27/hour").json()
    package = server.client.get(
        f"/version/v1/diagnosis-keys/country/DE/date/2026-11-27/hour/{hours[-1]}"
    ).content
    assert [i.verification_key_version for i in verify_export(package, pubs).verified_by] == ["v2"]
    with server.ctx.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(DiagnosisKey)) >= 4
