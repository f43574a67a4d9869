"""Every CWA presence-tracing vector: location id, hash, keys, MAC, encrypt, decrypt, TRL, interval."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest

from tests.conftest import load_vector_json
from tracewarn.protocol.errors import InvalidMAC
from tracewarn.protocol.presence import (
    CWA_SUBMISSION_PARAMETERS,
    CheckInRecord,
    LocationType,
    ProtectedReport,
    SubmissionParameters,
    decode_qr_payload,
    decrypt_report,
    derive_time_interval,
    encode_qr_payload,
    encrypt_check_in_record,
    encryption_key,
    location_id,
    location_id_hash,
    mac_key,
    report_mac,
    transmission_risk_level,
)

CRYPTO = ("cwa", "presence-tracing-crypto-vectors.json")
INTERVALS = ("cwa", "checkin-timeinterval-derivation.json")


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def crypto(section: str) -> Any:
    return load_vector_json(*CRYPTO)[section]


def unix(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


@pytest.mark.parametrize("index", [0, 1])
def test_location_id_from_qr_payload(index: int) -> None:
    case = crypto("locationIdFromQrCodePayload")[index]
    payload = b64(case["qrCodePayload"])
    assert location_id(payload) == b64(case["expectedLocationId"])


@pytest.mark.parametrize("index", [0, 1])
def test_vector_payload_decodes_to_the_listed_fields(index: int) -> None:
    case = crypto("locationIdFromQrCodePayload")[index]
    loc = decode_qr_payload(b64(case["qrCodePayload"]))
    expected = case["decoded"]
    data = expected["locationData"]
    vendor = expected["vendorData(CWALocationData)"]
    assert loc.version == expected["version"]
    assert loc.description == data["description"]
    assert loc.address == data["address"]
    assert loc.start_timestamp == data.get("startTimestamp", 0)
    assert loc.end_timestamp == data.get("endTimestamp", 0)
    assert loc.type == LocationType(vendor["type"])
    assert loc.default_check_in_length_minutes == vendor["defaultCheckInLengthInMinutes"]
    assert loc.public_key == b64(expected["crowdNotifierData"]["publicKey"])
    assert loc.cryptographic_seed == b64(expected["crowdNotifierData"]["cryptographicSeed"])


@pytest.mark.parametrize("index", [0, 1])
def test_reencoding_the_vector_payload_gives_the_same_location_id(index: int) -> None:
    """Android computes the id from a re-serialized trace location too and gets the same id."""
    case = crypto("locationIdFromQrCodePayload")[index]
    loc = decode_qr_payload(b64(case["qrCodePayload"]))
    assert location_id(encode_qr_payload(loc)) == b64(case["expectedLocationId"])


@pytest.mark.parametrize("index", [0, 1, 2])
def test_location_id_hash(index: int) -> None:
    case = crypto("locationIdHash")[index]
    loc_id = bytes.fromhex(case["locationId_hex"])
    assert location_id_hash(loc_id) == bytes.fromhex(case["expectedHash_hex"])


def test_key_derivation_and_prefixes() -> None:
    consts = load_vector_json(*CRYPTO)["constants"]
    from tracewarn.protocol.presence.report import ENCRYPTION_KEY_PREFIX, MAC_KEY_PREFIX

    assert bytes.fromhex(consts["encryptionKeyPrefix_hex"]) == ENCRYPTION_KEY_PREFIX
    assert bytes.fromhex(consts["macKeyPrefix_hex"]) == MAC_KEY_PREFIX
    for case in crypto("keyDerivation"):
        loc_id = b64(case["locationId"])
        assert encryption_key(loc_id) == b64(case["expectedEncryptionKey"])
        assert mac_key(loc_id) == b64(case["expectedMacKey"])


def test_mac() -> None:
    for case in crypto("mac"):
        got = report_mac(b64(case["macKey"]), b64(case["iv"]), b64(case["encryptedCheckInRecord"]))
        assert got == b64(case["expectedMac"])


@pytest.mark.parametrize("index", [0, 1])
def test_encrypt(index: int) -> None:
    """The samples give minutes since the epoch; the record holds 10-minute intervals (CWA event registration [docs/specifications.md#cwa-events])."""
    case = crypto("encrypt")[index]
    start_interval = case["checkInStartUnixMinutes"] // 10
    period = case["checkInEndUnixMinutes"] // 10 - start_interval
    record = CheckInRecord(start_interval, period, case["transmissionRiskLevel"])
    derived = case["derivedCheckInRecord"]
    assert record == CheckInRecord(
        derived["startIntervalNumber"], derived["period"], derived["transmissionRiskLevel"]
    )
    loc_id = b64(case["locationId"])
    report = encrypt_check_in_record(loc_id, record, b64(case["iv"]))
    assert report.encrypted_check_in_record == b64(case["expectedEncryptedCheckInRecord"])
    assert report.mac == b64(case["expectedMac"])
    assert report.location_id_hash == location_id_hash(loc_id)
    assert decrypt_report(loc_id, report) == record


def _decrypt_case(index: int) -> tuple[bytes, ProtectedReport, Any]:
    case = crypto("decrypt")[index]
    loc_id = b64(case["locationId"])
    report = ProtectedReport(
        location_id_hash(loc_id),
        b64(case["iv"]),
        b64(case["encryptedCheckInRecord"]),
        b64(case["mac"]),
    )
    return loc_id, report, case["expected"]


@pytest.mark.parametrize("index", [0, 1])
def test_decrypt(index: int) -> None:
    loc_id, report, expected = _decrypt_case(index)
    assert decrypt_report(loc_id, report) == CheckInRecord(
        expected["startIntervalNumber"], expected["period"], expected["transmissionRiskLevel"]
    )


def test_decrypt_with_tampered_location_id_is_a_mac_error() -> None:
    loc_id, report, expected = _decrypt_case(2)
    assert expected == "MAC_MISMATCH_ERROR"
    with pytest.raises(InvalidMAC):
        decrypt_report(loc_id, report)


@pytest.mark.parametrize("index", range(5))
def test_check_in_transmission_risk_level(index: int) -> None:
    section = crypto("checkInTransmissionRiskLevel")
    case = section["cases"][index]
    got = transmission_risk_level(
        unix(section["checkInStart"]), unix(case["now"]), section["transmissionRiskVector"]
    )
    assert got == case["expectedTrl"]


def test_interval_configuration_in_file_equals_cwa_default() -> None:
    config = load_vector_json(*INTERVALS)["defaultConfiguration"]
    assert SubmissionParameters.from_json(config) == CWA_SUBMISSION_PARAMETERS


@pytest.mark.parametrize("index", range(10))
def test_time_interval_derivation(index: int) -> None:
    data = load_vector_json(*INTERVALS)
    params = SubmissionParameters.from_json(data["defaultConfiguration"])
    case = data["testCases"][index]
    got = derive_time_interval(unix(case["startDate"]), unix(case["endDate"]), params)
    if case["expStartDate"] is None:
        assert got is None
    else:
        assert got == (unix(case["expStartDate"]), unix(case["expEndDate"]))


def test_there_are_exactly_ten_interval_cases() -> None:
    assert len(load_vector_json(*INTERVALS)["testCases"]) == 10
