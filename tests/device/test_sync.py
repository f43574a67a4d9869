"""A device against the real backend (in-process): report, publish, sync, notify."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.device.conftest import START, Backend
from tracewarn.device import BackendError, ReportRefused, VirtualDevice
from tracewarn.protocol.errors import InvalidSignature
from tracewarn.protocol.presence import (
    FOUR_LEVEL_PRESENCE_RISK_PARAMETERS,
    LocationType,
    ProtectedReport,
    TraceLocation,
    build_qr_url,
    check_in_risk,
    encode_qr_payload,
)
from tracewarn.protocol.risk import (
    CWA_1_15,
    CWA_SCALE,
    FOUR_LEVEL_CONFIG,
    FOUR_LEVEL_SCALE,
    exposure_window_from_json,
    score_exposure_windows,
)


def _meet(a: VirtualDevice, b: VirtualDevice, backend: Backend, minutes: int, rssi: int) -> None:
    t0 = int(backend.clock.now().timestamp())
    for k in range(minutes // 5):
        t = t0 + 300 * k
        backend.clock.set(dt.datetime.fromtimestamp(t, tz=dt.UTC))
        rpi, aem = a.advertisement()
        b.observe(rpi, aem, rssi, t)
        rpi, aem = b.advertisement()
        a.observe(rpi, aem, rssi, t)


def _cafe_url() -> str:
    location = TraceLocation(
        description="Café Test",
        address="Teststraße 1",
        type=LocationType.PERMANENT_FOOD_SERVICE,
        cryptographic_seed=bytes(range(16)),
        default_check_in_length_minutes=60,
    )
    return build_qr_url(encode_qr_payload(location))


def _report_and_publish(case: VirtualDevice, backend: Backend) -> None:
    backend.clock.set(START + dt.timedelta(days=2, hours=-1))
    case.report(backend.client, guid=backend.positive_code(), onset=START.date())
    backend.clock.set(START + dt.timedelta(days=2, hours=3))
    backend.publish()


def test_close_contact_gets_a_high_warning_with_the_day(backend: Backend) -> None:
    case, contact, stranger = (backend.device(n) for n in ("case", "contact", "stranger"))
    _meet(case, contact, backend, minutes=30, rssi=-60)  # attenuation 50 dB for 30 min
    _report_and_publish(case, backend)

    report = contact.sync(backend.client)
    assert report.key_packages >= 1 and report.new_windows >= 1
    assert report.raised
    note = report.notification
    assert (note.level, note.date, note.source) == ("high", START.date().isoformat(), "proximity")
    assert "stay at home" in note.advice
    assert contact.status()["notifications"][-1]["level"] == "high"

    quiet = stranger.sync(backend.client).notification
    assert quiet.level == "none" and "low" not in quiet.explanation.lower()
    assert stranger.status()["last_sync"] == backend.clock.now().isoformat()
    again = contact.sync(backend.client)  # nothing new: nothing downloaded, no second alert
    assert again.key_packages == 0 and not again.raised
    assert again.notification.level == "high"


def test_check_in_overlap_gets_the_presence_risk_level(backend: Backend) -> None:
    case, guest, late = (backend.device(n) for n in ("case", "guest", "late"))
    t = int(START.timestamp())
    case.check_in(_cafe_url(), start=t, end=t + 45 * 60)
    guest.check_in(_cafe_url(), start=t + 20 * 60, end=t + 80 * 60)
    late.check_in(_cafe_url(), start=t + 5 * 3600, end=t + 6 * 3600)
    _report_and_publish(case, backend)

    note = guest.sync(backend.client).notification
    assert note.source == "check-in"
    assert note.level == "high"  # 25 minutes of overlap at TRL >= 6 is above CWA's 10
    # Independently: the presence risk of the guest's own check-ins against every published report.
    from tracewarn.device._sync import stored_check_ins

    reports = [
        ProtectedReport.from_bytes(bytes.fromhex(e["report"]))
        for e in guest.store.get_meta("warnings")
    ]
    expected = check_in_risk(stored_check_ins(guest.store), reports, guest.now())
    assert note.level == CWA_SCALE.name(expected.total).lower()  # type: ignore[arg-type]
    assert late.sync(backend.client).notification.level == "none"
    assert case.store.check_ins()[0].submitted


def test_a_four_level_config_scores_both_sources_on_its_own_scale(backend: Backend) -> None:
    case, contact, guest = (backend.device(n) for n in ("case", "contact", "guest"))
    _meet(case, contact, backend, minutes=30, rssi=-60)
    t = int(START.timestamp())
    case.check_in(_cafe_url(), start=t, end=t + 45 * 60)
    guest.check_in(_cafe_url(), start=t + 20 * 60, end=t + 80 * 60)
    _report_and_publish(case, backend)

    report = contact.sync(backend.client, config=FOUR_LEVEL_CONFIG)
    note = report.notification
    today = backend.clock.now().date()
    windows = [
        exposure_window_from_json(w, today=today)
        for w in contact.store.get_meta("exposure_windows")
    ]
    expected = score_exposure_windows(windows, FOUR_LEVEL_CONFIG)
    assert expected.scale == FOUR_LEVEL_SCALE and expected.level > 0
    assert report.raised and note.source == "proximity"
    assert note.level == note.proximity_level == FOUR_LEVEL_SCALE.name(expected.level)
    assert note.advice  # every level of the scale has advice
    # The four-level scale refines CWA's: elevated or high exactly when CWA says HIGH.
    cwa = contact.sync(backend.client, config=CWA_1_15).notification
    assert cwa.level == "high" and note.level in ("elevated", "high")

    from tracewarn.device._sync import stored_check_ins

    visit = guest.sync(backend.client, config=FOUR_LEVEL_CONFIG).notification
    reports = [
        ProtectedReport.from_bytes(bytes.fromhex(e["report"]))
        for e in guest.store.get_meta("warnings")
    ]
    presence = check_in_risk(
        stored_check_ins(guest.store), reports, guest.now(), FOUR_LEVEL_PRESENCE_RISK_PARAMETERS
    )
    assert visit.source == "check-in"
    assert visit.level == visit.check_in_level == presence.total_name
    assert visit.level in FOUR_LEVEL_SCALE.names and visit.level != "none"


def test_a_package_signed_by_another_key_is_rejected(backend: Backend) -> None:
    case, contact = backend.device("case"), backend.device("contact")
    _meet(case, contact, backend, minutes=20, rssi=-60)
    _report_and_publish(case, backend)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    document = backend.client.get("/version/v1/signing-keys").json()
    key = next(k for k in document["keys"] if k["region"] == "DE")
    contact.store.set_meta(
        "signing_keys", [{"keyId": key["keyId"], "keyVersion": key["keyVersion"], "pem": pem}]
    )
    with pytest.raises(InvalidSignature):
        contact.sync(backend.client)


def test_a_negative_result_uploads_nothing_and_fakes_store_nothing(backend: Backend) -> None:
    case = backend.device("case")
    case.current_tek()
    negative = backend.client.post(
        "/version/v1/lab/results",
        json={"result": "negative"},
        headers={"X-API-Key": backend.lab_key},
    ).json()["code"]
    with pytest.raises(ReportRefused):
        case.report(backend.client, guid=negative)

    engine = backend.app.state.ctx.engine
    # Rate limits count fakes exactly like real requests (so a 429 tells nothing): their
    # counters move, every other table stays as it was.
    tables = [t for t in sa.inspect(engine).get_table_names() if t != "rate_limit_hit"]

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {
                t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables
            }

    before = counts()
    for _ in range(3):
        case.fake_report(backend.client)
    after = counts()
    # The shared rate limit counts every request, fake or real alike (a keyed hash per window,
    # deleted after it): a count of requests, not something a fake upload stored.
    after.pop("rate_limit_hit", None)
    before.pop("rate_limit_hit", None)
    assert after == before


def test_a_failed_upload_is_retried_with_the_same_tan(backend: Backend) -> None:
    import httpx

    case = backend.device("case")
    case.current_tek()
    code = backend.positive_code()

    def refuse_submission(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/version/v1/diagnosis-keys":
            return httpx.Response(503, json={"title": "unavailable"})
        return backend.client.send(
            backend.client.build_request(
                request.method, request.url.path, content=request.content, headers=request.headers
            )
        )

    with (
        httpx.Client(
            transport=httpx.MockTransport(refuse_submission), base_url="http://127.0.0.1"
        ) as flaky,
        pytest.raises(BackendError),
    ):
        case.report(flaky, guid=code)
    assert case.store.get_meta("pending_tan")
    summary = case.report(backend.client, guid=code)  # the code is used up; the kept TAN is not
    assert summary["keys"] == 1 and case.store.get_meta("pending_tan") is None
