"""QR payloads, URLs and scan rules: round trips, CWA's rules, bad input as typed errors."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_vector_json
from tracewarn.protocol.errors import ProtocolError, QRCodeFormatError
from tracewarn.protocol.presence import (
    CWA_DESCRIPTOR,
    CWA_PRODUCTION_PUBLIC_KEY,
    CWA_URL_PREFIX,
    TRACEWARN_URL_PREFIX,
    LocationType,
    PayloadEncoding,
    QRCodeDescriptor,
    TraceLocation,
    TransportDetails,
    build_qr_url,
    decode_location_url,
    decode_qr_payload,
    encode_qr_payload,
    location_id,
    location_url,
    parse_qr_url,
    scan_location_url,
    timestamp_datetime,
    train_coach_location,
    validation_problems,
)
from tracewarn.protocol.proto import presence_pb2

SEED = bytes(range(16))
# The machine is shared; building the character tables once can take seconds.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def venue(**changes: object) -> TraceLocation:
    base: dict[str, object] = {
        "description": "Café Anna",
        "address": "Hauptstraße 1, Berlin",
        "type": LocationType.PERMANENT_FOOD_SERVICE,
        "cryptographic_seed": SEED,
        "default_check_in_length_minutes": 60,
    }
    base.update(changes)
    return TraceLocation(**base)  # type: ignore[arg-type]


text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
    min_size=1,
    max_size=80,
).filter(lambda s: s.strip() != "")
cwa_types = st.sampled_from([t for t in LocationType if not t.is_tracewarn])
uint64 = st.integers(0, 2**64 - 1)


@st.composite
def locations(draw: st.DrawFn) -> TraceLocation:
    # Up to 9999-12-31, the last time a device can represent (later ones break a scan rule).
    start = draw(st.integers(0, 2**37))
    end = draw(st.integers(start, 253_402_300_799))
    kind = draw(st.sampled_from(list(LocationType)))
    transport = None
    if kind.is_transport:
        transport = TransportDetails(
            draw(text), draw(st.text(max_size=5)), draw(st.none() | st.dates())
        )
    return TraceLocation(
        description=draw(text),
        address=draw(text),
        type=kind,
        cryptographic_seed=draw(st.binary(min_size=16, max_size=16)),
        start_timestamp=start,
        end_timestamp=end,
        default_check_in_length_minutes=draw(st.none() | st.integers(1, 2**32 - 1)),
        public_key=draw(st.binary(max_size=96)),
        transport=transport,
    )


@relaxed
@given(locations())
def test_payload_round_trip(loc: TraceLocation) -> None:
    assert decode_qr_payload(encode_qr_payload(loc)) == loc


@relaxed
@given(locations(), st.sampled_from([CWA_URL_PREFIX, TRACEWARN_URL_PREFIX]))
def test_url_round_trip(loc: TraceLocation, prefix: str) -> None:
    url = location_url(loc, prefix)
    decoded = scan_location_url(url)
    assert decoded.location == loc
    assert decoded.location_id == location_id(encode_qr_payload(loc))


@given(st.binary(max_size=300))
def test_any_bytes_give_a_location_or_a_typed_error(data: bytes) -> None:
    with contextlib.suppress(QRCodeFormatError):
        decode_qr_payload(data)


@relaxed
@given(st.text(max_size=300))
def test_any_url_gives_a_code_or_a_typed_error(url: str) -> None:
    with contextlib.suppress(ProtocolError):
        scan_location_url(url)


def test_vector_payload_decodes_through_the_cwa_url() -> None:
    case = load_vector_json("cwa", "presence-tracing-crypto-vectors.json")[
        "locationIdFromQrCodePayload"
    ][1]
    payload = base64.b64decode(case["qrCodePayload"])
    url = build_qr_url(payload, CWA_URL_PREFIX)
    decoded = decode_location_url(url)
    assert decoded.location_id == base64.b64decode(case["expectedLocationId"])
    assert decoded.descriptor == CWA_DESCRIPTOR
    # The vector's seed is the 4-byte test string "1234", which a device refuses (CWA event registration [docs/specifications.md#cwa-events]).
    with pytest.raises(QRCodeFormatError, match=r"\[seed-length\]"):
        scan_location_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://e.coronawarn.app?v=1#{p}",
        "https://e.coronawarn.app/?v=1#{p}",
        "HTTPS://E.CORONAWARN.APP?v=1#{p}",
        "https://tracewarn.example/c?v=1#{p}",
        "https://app.luca-app.de/webapp/abc#e30/CWA1/{p}",
    ],
)
def test_accepted_url_forms(url: str) -> None:
    payload = encode_qr_payload(venue())
    text = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    assert parse_qr_url(url.format(p=text)).payload == payload


def test_base32_descriptor() -> None:
    descriptor = QRCodeDescriptor(
        r"https://b32\.example/(\d+)/(.+)", 0, 1, PayloadEncoding.BASE32, "b32"
    )
    payload = encode_qr_payload(venue())
    url = build_qr_url(payload, "https://b32.example/1/", PayloadEncoding.BASE32)
    assert parse_qr_url(url, (descriptor,)).payload == payload
    assert parse_qr_url(url.lower(), (descriptor,)).payload == payload
    with pytest.raises(QRCodeFormatError, match="base32"):
        parse_qr_url("https://b32.example/1/ABC1", (descriptor,))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.com/?v=1#abc", "matches none"),
        ("https://e.coronawarn.app?v=1#", "matches none"),
        ("https://e.coronawarn.app?v=1#abc$", "base64url"),
        ("https://e.coronawarn.app?v=1#a", "base64url"),
        ("https://e.coronawarn.app?v=1#AAAA", "protobuf|locationData"),
        ("https://e.coronawarn.app?v=1#" + "A" * 5000, "longer"),
    ],
)
def test_malformed_urls_are_typed_errors(url: str, message: str) -> None:
    with pytest.raises(QRCodeFormatError, match=message):
        scan_location_url(url)


def test_wrong_protobuf_is_a_typed_error() -> None:
    # A valid protobuf of another message: field 2 is a string, not a TraceLocation.
    other = presence_pb2.CheckIn(locationId=b"x" * 40, startIntervalNumber=5).SerializeToString()
    with pytest.raises(QRCodeFormatError):
        decode_qr_payload(other)


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"description": ""}, "description-not-empty"),
        ({"description": "x" * 256}, "description-max-length"),
        ({"description": "two\nlines"}, "description-single-line"),
        ({"address": "   "}, "address-not-empty"),
        ({"address": "y" * 256}, "address-max-length"),
        ({"address": "a\rb"}, "address-single-line"),
        ({"start_timestamp": 200, "end_timestamp": 100}, "start-not-after-end"),
        ({"start_timestamp": 100, "end_timestamp": 0}, "start-not-after-end"),
        ({"start_timestamp": 0, "end_timestamp": 253_402_300_800}, "end-timestamp-range"),
        ({"start_timestamp": 0, "end_timestamp": 2**63}, "end-timestamp-range"),
        ({"cryptographic_seed": b"1234"}, "seed-length"),
        ({"cryptographic_seed": bytes(32)}, "seed-length"),
        ({"type": LocationType.TRAIN_COACH}, "transport-service"),
    ],
)
def test_each_scan_rule(changes: dict[str, object], rule: str) -> None:
    loc = venue(**changes)
    assert [p.rule for p in validation_problems(loc)] == [rule]
    with pytest.raises(QRCodeFormatError, match=rf"\[{rule}\]"):
        scan_location_url(build_qr_url(encode_qr_payload(loc)))


def test_boundaries_that_pass() -> None:
    assert validation_problems(venue(description="x" * 255, address="y" * 255)) == []
    assert validation_problems(venue(start_timestamp=0, end_timestamp=0)) == []
    assert validation_problems(venue(start_timestamp=5, end_timestamp=5)) == []


def test_length_counts_utf16_units_like_the_app() -> None:
    # 128 emoji are 256 UTF-16 code units, one more than the 255 the app accepts.
    assert [p.rule for p in validation_problems(venue(description="😷" * 128))] == [
        "description-max-length"
    ]
    assert validation_problems(venue(description="😷" * 127)) == []


def test_train_coach_reads_as_other_to_cwa() -> None:
    loc = train_coach_location(
        "ICE 597", "7", dt.date(2026, 11, 29), seed=SEED, departure=1_000_000, arrival=1_010_000
    )
    payload = presence_pb2.QRCodePayload.FromString(encode_qr_payload(loc))
    vendor = presence_pb2.CWALocationData.FromString(payload.vendorData)
    # A parser that knows only CWA's three fields sees TEMPORARY_OTHER and nothing else.
    cwa_only = presence_pb2.CWALocationData(
        version=vendor.version,
        type=vendor.type,
        defaultCheckInLengthInMinutes=vendor.defaultCheckInLengthInMinutes,
    )
    assert cwa_only.type == presence_pb2.LOCATION_TYPE_TEMPORARY_OTHER
    assert vendor.tracewarn.type == presence_pb2.TRACEWARN_LOCATION_TYPE_TRAIN_COACH
    assert (vendor.tracewarn.service, vendor.tracewarn.unit) == ("ICE 597", "7")
    decoded = decode_qr_payload(encode_qr_payload(loc))
    assert decoded.type is LocationType.TRAIN_COACH
    assert decoded.type.wire_name == "LOCATION_TYPE_TRAIN_COACH"
    assert decoded.cwa_type is LocationType.TEMPORARY_OTHER


def test_unknown_future_cwa_type_reads_as_unspecified() -> None:
    payload = presence_pb2.QRCodePayload.FromString(encode_qr_payload(venue()))
    payload.vendorData = b"\x08\x01\x10\x63"  # version 1, type 99
    assert decode_qr_payload(payload.SerializeToString()).type is LocationType.UNSPECIFIED


def test_production_public_key_is_96_bytes() -> None:
    assert len(CWA_PRODUCTION_PUBLIC_KEY) == 96
    assert venue().public_key == CWA_PRODUCTION_PUBLIC_KEY


def test_location_type_names() -> None:
    assert LocationType.from_name("train-coach") is LocationType.TRAIN_COACH
    assert LocationType.from_name("LOCATION_TYPE_PERMANENT_RETAIL") is LocationType.PERMANENT_RETAIL
    with pytest.raises(QRCodeFormatError, match="unknown location type"):
        LocationType.from_name("spaceship")


@relaxed
@given(st.sampled_from([CWA_URL_PREFIX, TRACEWARN_URL_PREFIX]), st.text(max_size=400))
def test_any_fragment_gives_a_code_or_a_typed_error(prefix: str, fragment: str) -> None:
    with contextlib.suppress(ProtocolError):
        scan_location_url(prefix + fragment)


@relaxed
@given(st.binary(max_size=400))
def test_any_payload_bytes_in_a_url_give_a_code_or_a_typed_error(payload: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        scan_location_url(build_qr_url(payload))


def test_descriptor_with_a_missing_group_is_a_typed_error() -> None:
    broken = QRCodeDescriptor(r"https://x\.example/(.+)", 0, 1, PayloadEncoding.BASE64, "broken")
    with pytest.raises(QRCodeFormatError, match="group"):
        parse_qr_url("https://x.example/abc", (broken,))
    no_number = QRCodeDescriptor(r"https://x\.example/(\w+)/(.+)", 0, 1, PayloadEncoding.BASE64)
    with pytest.raises(QRCodeFormatError, match="not a number"):
        parse_qr_url("https://x.example/v_one/AAAA", (no_number,))


def test_huge_timestamps_are_a_typed_error_not_a_valid_code() -> None:
    # Issue 11 repro: year 33658 and 2**63 crashed `location scan` and passed as valid.
    for value in (1_000_000_000_000, 2**63, 2**64 - 1):
        loc = venue(start_timestamp=value, end_timestamp=value)
        rules = [p.rule for p in validation_problems(loc)]
        assert rules == ["start-timestamp-range", "end-timestamp-range"]
        with pytest.raises(QRCodeFormatError):
            timestamp_datetime(value)
    assert timestamp_datetime(253_402_300_799).year == 9999
