"""The page's JavaScript against protocol/presence, in Chromium, on generated inputs.

The protobuf decoder, the default check-in length, the package decoder and the matcher must give
exactly what the Python library gives; malformed bytes must fail in both, and a tampered package
must not verify. Inputs come from a seeded generator so a failure reproduces.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

import pytest

from tracewarn.protocol.errors import ProtocolError
from tracewarn.protocol.gaen import ExportSigner, write_signed_zip
from tracewarn.protocol.presence import (
    CheckIn,
    CheckInRecord,
    LocationType,
    TraceLocation,
    TransportDetails,
    decode_qr_payload,
    decode_trace_warning_package,
    default_check_in_length_minutes,
    encode_qr_payload,
    encode_trace_warning_package,
    encrypt_check_in_record,
    location_id,
    match_check_ins,
)

from .browser import launch_browser, live_server

_NOW = int(dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC).timestamp())
_TEXTS = ["Café Lindenhof", "Bäckerei 🥐 Nord", "x", "ICE 597 → Berlin", "a" * 200, "Zürich HB"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    for browser in launch_browser():
        with live_server(tmp_path_factory.mktemp("proto")) as live:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{live.url}/c/warnings")
            yield page
            context.close()


def _location(rng: random.Random) -> TraceLocation:
    kind = rng.choice(list(LocationType))
    transport = None
    if kind.is_transport:
        transport = TransportDetails(
            rng.choice(_TEXTS), rng.choice(["", "7", "B"]), dt.date(2026, 12, rng.randint(1, 28))
        )
    start = rng.choice([0, _NOW - rng.randint(0, 10**5), 2**40])
    end = 0 if start == 0 else start + rng.randint(0, 10**5)
    return TraceLocation(
        description=rng.choice(_TEXTS),
        address=rng.choice(_TEXTS),
        type=kind,
        cryptographic_seed=rng.randbytes(16),
        start_timestamp=start,
        end_timestamp=end,
        default_check_in_length_minutes=rng.choice([None, 1, 15, 90, 2000]),
        transport=transport,
    )


def test_js_decodes_qr_payloads_like_the_library(page: Any) -> None:
    rng = random.Random(15)
    payloads = [encode_qr_payload(_location(rng)) for _ in range(60)]
    nows = [_NOW - 3600, _NOW, _NOW + 7200]
    js = page.evaluate(
        """([payloads, nows]) => payloads.map((p) => {
            const loc = tracewarn.location.decodePayload(tracewarn.bytes.fromBase64(p));
            return [loc.description, loc.address, loc.type, loc.startTimestamp, loc.endTimestamp,
                    loc.defaultCheckInLengthMinutes, tracewarn.bytes.toBase64(loc.cryptographicSeed),
                    loc.transport && [loc.transport.service, loc.transport.unit, loc.transport.serviceDate],
                    nows.map((n) => tracewarn.location.defaultCheckInLengthMinutes(loc, n))];
        })""",
        [[b64(p) for p in payloads], nows],
    )
    for payload, got in zip(payloads, js, strict=True):
        loc = decode_qr_payload(payload)
        transport = loc.transport
        assert got == [
            loc.description,
            loc.address,
            loc.type.name,
            loc.start_timestamp,
            loc.end_timestamp,
            loc.default_check_in_length_minutes,
            b64(loc.cryptographic_seed),
            transport
            and [
                transport.service,
                transport.unit,
                transport.service_date.isoformat() if transport.service_date else "",
            ],
            [default_check_in_length_minutes(loc, n) for n in nows],
        ]


def test_js_and_library_agree_on_malformed_payloads(page: Any) -> None:
    rng = random.Random(16)
    payload = encode_qr_payload(_location(rng))
    broken = [payload[:n] for n in range(0, len(payload), 3)]
    broken += [bytes([0xFF]) * 11, b"\x0a\x05abc", payload[:-1] + b"\x80", b"\x12\x02\xc3\x28"]
    js = page.evaluate(
        """(list) => list.map((p) => {
            try { tracewarn.location.decodePayload(tracewarn.bytes.fromBase64(p)); return true; }
            catch (e) { return e instanceof tracewarn.FormatError ? false : String(e); }
        })""",
        [b64(b) for b in broken],
    )
    expected = []
    for data in broken:
        try:
            decode_qr_payload(data)
            expected.append(True)
        except ProtocolError:
            expected.append(False)
    assert js == expected
    assert False in js


def test_js_reads_verifies_and_matches_warning_packages_like_the_library(page: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    rng = random.Random(17)
    places = [rng.randbytes(40) for _ in range(6)]
    ids = [location_id(p) for p in places]
    check_ins = [
        CheckIn(ids[i % 4], _NOW - rng.randint(0, 40_000), _NOW + rng.randint(0, 5_000))
        for i in range(8)
    ]
    reports = []
    for _ in range(30):
        place = rng.choice(ids)
        start = (_NOW - rng.randint(0, 86_400)) // 600
        record = CheckInRecord(start, rng.choice([0, 1, 3, 12, 200]), rng.choice([0, 1, 5, 8, 9]))
        reports.append(encrypt_check_in_record(place, record, rng.randbytes(16)))
    package = encode_trace_warning_package(_NOW // 3600, "DE", reports)
    key = ec.generate_private_key(ec.SECP256R1())
    zipped = write_signed_zip(package, [ExportSigner(key, "262", "v1")])
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    keys = [{"region": "DE", "keyId": "262", "keyVersion": "v1", "publicKeyPem": pem}]
    tampered = bytearray(zipped)
    tampered[len(zipped) // 3] ^= 0x01
    js = page.evaluate(
        """async ([zipB64, tamperedB64, keys, checkIns, now]) => {
            const tw = tracewarn, b = tw.bytes;
            const bin = await tw.zip.verifySignedZip(b.fromBase64(zipB64), keys, "DE");
            const pkg = tw.proto.decode(bin, tw.proto.schemas.TraceWarningPackage);
            let tamperedResult = "verified";
            try { await tw.zip.verifySignedZip(b.fromBase64(tamperedB64), keys, "DE"); }
            catch (e) { tamperedResult = e.constructor.name; }
            let otherRegion = "verified";
            try { await tw.zip.verifySignedZip(b.fromBase64(zipB64), keys, "FR"); }
            catch (e) { otherRegion = e.constructor.name; }
            const stays = checkIns.map(([id, start, end]) => ({locationId: b.fromBase64(id), start, end}));
            const m = await tw.crypto.matchCheckIns(stays, pkg.checkInProtectedReports, now);
            return {interval: pkg.intervalNumber, region: pkg.region, count: pkg.checkInProtectedReports.length,
                    tamperedResult, otherRegion,
                    overlaps: m.overlaps.map((o) => [o.checkInIndex, o.start, o.end, o.transmissionRiskLevel]),
                    counts: [m.reportsSelected, m.reportsRejectedMac, m.reportsRejectedContent]};
        }""",
        [
            b64(zipped),
            b64(bytes(tampered)),
            keys,
            [[b64(c.location_id), c.start, c.end] for c in check_ins],
            _NOW,
        ],
    )
    decoded = decode_trace_warning_package(package)
    expected = match_check_ins(check_ins, decoded.reports, _NOW)
    assert (js["interval"], js["region"], js["count"]) == (_NOW // 3600, "DE", 30)
    assert js["tamperedResult"] == "ZipError" and js["otherRegion"] == "ZipError"
    assert js["overlaps"] == [
        [o.check_in_index, o.start, o.end, o.transmission_risk_level] for o in expected.overlaps
    ]
    assert js["counts"] == [
        expected.reports_selected,
        expected.reports_rejected_mac,
        expected.reports_rejected_content,
    ]
    assert expected.overlaps and expected.reports_rejected_content  # the cases were exercised
