"""Member side: consenting keys leave in signed batches, other regions' keys come back verified,
validated, de-duplicated and published in the right packages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.server.conftest import payload_with_keys
from tests.server.federation.conftest import Federation
from tracewarn.protocol.federation import FederationKey, ReportType
from tracewarn.server.federation.client import GatewayClient, identity_headers
from tracewarn.server.gateway.models import GatewayKey
from tracewarn.server.models import DiagnosisKey, FederationBatch, FederationSent
from tracewarn.server.testing import asgi_client

HOUR = 3600


def _report(
    fed: Federation, region: str, *, consent: bool = True, visited: tuple[str, ...] = ()
) -> list[bytes]:
    server = fed.backends[region]
    payload = payload_with_keys(fed.now[0])
    del payload.visitedCountries[:]
    payload.visitedCountries.extend(visited or (region,))
    payload.consentToFederation = consent
    r = server.upload(payload, server.tan())
    assert r.status_code == 200, r.text
    return [bytes(k.key_data) for k in payload.keys]


def _rows(fed: Federation, region: str) -> list[DiagnosisKey]:
    with fed.backends[region].ctx.sessions() as s:
        return list(s.scalars(sa.select(DiagnosisKey).where(DiagnosisKey.is_padding.is_(False))))


def test_a_case_in_bb_reaches_aa_packages(make_federation: Any) -> None:
    fed: Federation = make_federation(federation_min_batch_keys=1)
    sent = _report(fed, "BB")
    _report(fed, "BB", consent=False)  # stays in BB
    # Nothing leaves before it is published in BB.
    assert fed.federate("BB")["upload"]["pending"] == 0
    fed.advance(HOUR)
    fed.publish("BB")
    out = fed.federate("BB")["upload"]
    # Today's key is not published yet (still valid), so 13 of the 14 leave now.
    assert out["keys_sent"] == 13 and len(out["batches"]) == 1
    assert fed.gateway_jobs()["batches"] == 1
    imported = fed.federate("AA")["import"]
    assert imported["keys_imported"] == 13 and imported["keys_rejected"] == 0
    rows = {r.key_data: r for r in _rows(fed, "AA")}
    assert set(rows) == set(sent[1:])
    assert all(r.origin_country == "BB" and not r.consent_to_federation for r in rows.values())
    fed.advance(HOUR)
    fed.publish("AA")
    # Each imported key is published once in AA's BB package and once in EUR (packages are
    # padded to 140 keys with random ones), never in AA's own.
    for region in ("BB", "EUR"):
        published = fed.published_keys("AA", region)
        assert len(published) >= 140
        assert all(published.count(k) == 1 for k in sent[1:])
    assert not set(fed.published_keys("AA", "AA")) & set(sent)
    # Imported keys never leave AA again (no re-federation), and a second round imports nothing.
    again = fed.federate("AA")
    assert again["upload"]["pending"] == 0 and again["import"]["keys_imported"] == 0


def test_fewer_than_the_minimum_wait(make_federation: Any) -> None:
    fed: Federation = make_federation(federation_min_batch_keys=20)
    _report(fed, "BB")
    fed.advance(HOUR)
    fed.publish("BB")
    assert fed.federate("BB")["upload"] == {
        "pending": 13,
        "batches": [],
        "keys_sent": 0,
        "already_there": 0,
    }
    _report(fed, "BB")
    fed.advance(HOUR)
    fed.publish("BB")
    out = fed.federate("BB")["upload"]
    assert out["keys_sent"] == 26 and len(out["batches"]) == 1


def test_batches_are_balanced_and_resent_keys_are_not_duplicated(make_federation: Any) -> None:
    fed: Federation = make_federation(federation_min_batch_keys=1, federation_max_batch_keys=10)
    for _ in range(2):
        _report(fed, "BB")
    fed.advance(HOUR)
    fed.publish("BB")
    ctx = fed.backends["BB"].ctx
    out = fed.federate("BB")["upload"]
    assert out["keys_sent"] == 26 and len(out["batches"]) == 3
    with fed.gateway.sessions() as s:
        from tracewarn.server.gateway.models import UploadBatch

        assert sorted(s.scalars(sa.select(UploadBatch.amount))) == [8, 9, 9]
    # A crash after the gateway stored the batches but before BB marked them: BB re-sends, the
    # gateway answers 207/409 and nothing is stored twice.
    with ctx.sessions.begin() as s:
        s.execute(sa.delete(FederationSent))
    out = fed.federate("BB")["upload"]
    assert out["keys_sent"] == 0 and out["already_there"] == 26
    with fed.gateway.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(GatewayKey)) == 26


def _member_client(fed: Federation, region: str) -> GatewayClient:
    from tracewarn.protocol.federation import load_certificate

    directory = fed.backends[region].ctx.settings.federation_dir
    assert directory is not None
    auth = load_certificate((directory / "auth.pem").read_bytes())
    return GatewayClient(asgi_client(fed.gateway_app), identity_headers(auth))


def _sign(fed: Federation, region: str, keys: list[FederationKey]) -> str:
    from tracewarn.protocol.federation import sign_batch
    from tracewarn.server.federation.member import load_credentials

    directory = fed.backends[region].ctx.settings.federation_dir
    assert directory is not None
    c = load_credentials(directory)
    return sign_batch(keys, key=c.signing_key, certificate=c.signing_certificate)


def test_imported_keys_are_validated_like_local_uploads(make_federation: Any) -> None:
    fed: Federation = make_federation()
    today = int(fed.now[0]) // 86400 * 144

    def key(i: int, **changes: Any) -> FederationKey:
        fields: dict[str, Any] = {
            "key_data": bytes([i]) * 16,
            "rolling_start_interval_number": today - 144,
            "rolling_period": 144,
            "transmission_risk_level": 8,
            "visited_countries": ("BB",),
            "origin": "BB",
            "report_type": ReportType.CONFIRMED_TEST,
            "days_since_onset_of_symptoms": 0,
        }
        fields.update(changes)
        return FederationKey(**fields)

    keys = [
        key(1),
        key(2, report_type=ReportType.SELF_REPORT),
        key(3, rolling_start_interval_number=today - 144 + 6),  # not at UTC midnight
        key(4, days_since_onset_of_symptoms=5000),  # DSOS out of range
        key(5, rolling_start_interval_number=today - 144 * 15),  # older than 14 days
        key(6, report_type=ReportType.CONFIRMED_CLINICAL_DIAGNOSIS, days_since_onset_of_symptoms=3),
    ]
    client = _member_client(fed, "BB")
    assert client.upload(keys, tag="bb-1", signature=_sign(fed, "BB", keys)).status == 201
    fed.gateway_jobs()
    out = fed.federate("AA")["import"]
    assert out["keys_imported"] == 2 and out["keys_rejected"] == 4
    rows = {r.key_data[0]: r for r in _rows(fed, "AA")}
    assert set(rows) == {1, 6}
    # The sender's TRL is ignored and derived from the days since onset (CWA's rule).
    assert rows[1].transmission_risk_level == 8 and rows[6].transmission_risk_level == 5
    with fed.backends["AA"].ctx.sessions() as s:
        batch = s.scalars(sa.select(FederationBatch)).one()
        assert batch.status == "processed_with_error" and batch.keys_rejected == 4


def test_keys_altered_at_the_gateway_are_dropped(make_federation: Any) -> None:
    fed: Federation = make_federation()
    today = int(fed.now[0]) // 86400 * 144
    keys = [
        FederationKey(bytes([i]) * 16, today - 144, 144, 8, ("BB",), "BB", 1, 0) for i in range(5)
    ]
    client = _member_client(fed, "BB")
    assert client.upload(keys, tag="bb-1", signature=_sign(fed, "BB", keys)).status == 201
    other = [
        FederationKey(bytes([9, i]) * 8, today - 144, 144, 8, ("BB",), "BB", 1, 0) for i in range(3)
    ]
    assert client.upload(other, tag="bb-2", signature=_sign(fed, "BB", other)).status == 201
    # A compromised gateway (or its database) changes one key of the first upload.
    with fed.gateway.sessions.begin() as s:
        row = s.scalars(sa.select(GatewayKey).where(GatewayKey.key_data == bytes([2]) * 16)).one()
        row.days_since_onset_of_symptoms = -3
    fed.gateway_jobs()
    out = fed.federate("AA")["import"]
    assert out["keys_imported"] == 3 and out["keys_rejected"] == 5
    assert {r.key_data for r in _rows(fed, "AA")} == {k.key_data for k in other}


def test_retention_forgets_federation_bookkeeping(make_federation: Any) -> None:
    from tracewarn.server.retention import cleanup

    fed: Federation = make_federation(federation_min_batch_keys=1)
    _report(fed, "BB")
    fed.advance(HOUR)
    fed.publish("BB")
    assert fed.federate("BB")["upload"]["keys_sent"] == 13
    fed.gateway_jobs()
    assert fed.federate("AA")["import"]["keys_imported"] == 13
    fed.advance(15 * 86400)
    for region in ("AA", "BB"):
        cleanup(fed.backends[region].ctx)
        with fed.backends[region].ctx.sessions() as s:
            for table in (FederationSent, FederationBatch):
                assert s.scalar(sa.select(sa.func.count()).select_from(table)) == 0
