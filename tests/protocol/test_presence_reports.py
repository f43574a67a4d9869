"""Submission, encrypted reports, warning packages, matching and check-in risk, end to end."""

from __future__ import annotations

import contextlib
import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracewarn.protocol.errors import (
    CheckInFormatError,
    ConfigurationError,
    CryptoFormatError,
    InvalidMAC,
)
from tracewarn.protocol.presence import (
    CWA_PRESENCE_RISK_PARAMETERS,
    CheckIn,
    CheckInOverlap,
    CheckInRecord,
    PresenceRiskParameters,
    ProtectedReport,
    check_in,
    check_in_reports,
    check_in_risk,
    decode_trace_warning_package,
    decrypt_report,
    encode_qr_payload,
    encode_trace_warning_package,
    encrypt_check_in_record,
    hour_interval,
    location_id_hash,
    mark_submitted,
    match_check_ins,
    presence_risk,
    split_at_utc_midnight,
    submission_parts,
    train_coach_location,
)
from tracewarn.protocol.risk.levels import CALCULATION_FAILED, LevelMapping, Range, RiskLevelScale

T0 = int(dt.datetime(2026, 11, 28, tzinfo=dt.UTC).timestamp())  # a UTC midnight
H = 3600
M = 60
DAY = 86_400
LOW, HIGH = 0, 1
NO_INFORMATION_VECTOR = [5, 6, 7, 7, 7, 6, 4, 3, 2, 1, 1, 1, 1, 1, 1]


def rng(seed: int = 1) -> random.Random:
    return random.Random(seed)


def loc_id(n: int) -> bytes:
    return bytes([n]) * 32


# --- encrypted reports ------------------------------------------------------------------------

records = st.builds(CheckInRecord, st.integers(0, 2**31), st.integers(1, 2**20), st.integers(1, 8))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, st.binary(min_size=32, max_size=32), st.binary(min_size=16, max_size=16))
def test_report_round_trip(record: CheckInRecord, lid: bytes, iv: bytes) -> None:
    report = encrypt_check_in_record(lid, record, iv)
    assert len(report.to_bytes()) == 104
    assert ProtectedReport.from_bytes(report.to_bytes()) == report
    assert decrypt_report(lid, report) == record


@settings(deadline=None)
@given(records, st.integers(0, 63), st.integers(0, 7))
def test_any_flipped_bit_is_a_mac_error(record: CheckInRecord, byte: int, bit: int) -> None:
    lid = loc_id(7)
    report = encrypt_check_in_record(lid, record, bytes(16))
    raw = bytearray(report.iv + report.encrypted_check_in_record + report.mac)
    raw[byte] ^= 1 << bit  # iv, ciphertext or MAC
    tampered = ProtectedReport(
        report.location_id_hash, bytes(raw[:16]), bytes(raw[16:32]), bytes(raw[32:])
    )
    with pytest.raises(InvalidMAC):
        decrypt_report(lid, tampered)


def test_wrong_key_is_a_mac_error() -> None:
    report = encrypt_check_in_record(loc_id(1), CheckInRecord(100, 3, 6), bytes(16))
    with pytest.raises(InvalidMAC):
        decrypt_report(loc_id(2), report)


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_a_typed_error(data: bytes) -> None:
    with contextlib.suppress(CheckInFormatError):
        ProtectedReport.from_bytes(data)


def test_bad_sizes_are_typed_errors() -> None:
    with pytest.raises(CryptoFormatError):
        encrypt_check_in_record(loc_id(1), CheckInRecord(1, 1, 1), bytes(15))
    with pytest.raises(CryptoFormatError):
        encrypt_check_in_record(b"short", CheckInRecord(1, 1, 1), bytes(16))
    with pytest.raises(CheckInFormatError, match="mac is 31 bytes"):
        ProtectedReport(bytes(32), bytes(16), bytes(16), bytes(31)).check_sizes()


# --- submission -------------------------------------------------------------------------------


def test_split_at_utc_midnight() -> None:
    assert split_at_utc_midnight(T0 - H, T0 + H) == [(T0 - H, T0), (T0, T0 + H)]
    assert split_at_utc_midnight(T0 - H, T0) == [(T0 - H, T0)]
    assert split_at_utc_midnight(T0, T0) == []


def test_submission_parts_derive_split_and_weigh() -> None:
    now = T0 + DAY + 8 * H  # the day after
    check_ins = [
        CheckIn(loc_id(1), T0 + 10 * H, T0 + 12 * H),  # 10:00-12:00 -> 10:00-12:30, age 1
        CheckIn(loc_id(2), T0 + 23 * H + 20 * M, T0 + DAY + 20 * M),  # across midnight
        CheckIn(loc_id(3), T0 + 9 * H, T0 + 9 * H + 5 * M),  # 5 min: dropped
        CheckIn(loc_id(4), T0 - 9 * DAY, T0 - 9 * DAY + H),  # age 10: TRL 1, TRV 0: dropped
    ]
    parts = submission_parts(check_ins, now, NO_INFORMATION_VECTOR)
    got = [(p.location_id[0], p.record) for p in parts]
    i = (T0 + 10 * H) // 600
    # 23:20-00:20 is 60 min, +30 min decay: 23:20-00:50, split into 23:20-24:00 (age 1) and
    # 00:00-00:50 (age 0).
    j = (T0 + 23 * H + 20 * M) // 600
    assert got == [
        (1, CheckInRecord(i, 15, 6)),
        (2, CheckInRecord(j, 4, 6)),
        (2, CheckInRecord((T0 + DAY) // 600, 5, 5)),
    ]


def test_open_check_in_counts_only_until_now() -> None:
    parts = submission_parts([CheckIn(loc_id(1), T0, T0 + 5 * H)], T0 + H, NO_INFORMATION_VECTOR)
    assert [p.record.period for p in parts] == [9]  # 60 min + 30 min decay


def test_reports_are_shuffled_with_caller_randomness() -> None:
    check_ins = [CheckIn(loc_id(n), T0 + n * H, T0 + n * H + 30 * M) for n in range(1, 9)]
    now = T0 + DAY
    a = check_in_reports(check_ins, now, NO_INFORMATION_VECTOR, rng(1).randbytes)
    b = check_in_reports(check_ins, now, NO_INFORMATION_VECTOR, rng(1).randbytes)
    c = check_in_reports(check_ins, now, NO_INFORMATION_VECTOR, rng(2).randbytes)
    assert a == b
    assert {r.location_id_hash for r in a} == {location_id_hash(loc_id(n)) for n in range(1, 9)}
    assert [r.location_id_hash for r in a] != [r.location_id_hash for r in c]
    assert [r.location_id_hash for r in a] != [location_id_hash(loc_id(n)) for n in range(1, 9)]
    assert len({r.iv for r in a}) == 8


def test_short_random_source_is_a_typed_error() -> None:
    with pytest.raises(CryptoFormatError):
        check_in_reports(
            [CheckIn(loc_id(1), T0, T0 + H)], T0 + H, NO_INFORMATION_VECTOR, lambda n: b"x"
        )


# --- warning packages -------------------------------------------------------------------------


def test_warning_package_round_trip() -> None:
    reports = [
        encrypt_check_in_record(loc_id(n), CheckInRecord(1000 + n, 2, 7), bytes([n]) * 16)
        for n in range(5)
    ]
    hour = hour_interval(T0 + 5 * H + 59 * M)
    data = encode_trace_warning_package(hour, "DE", reports)
    package = decode_trace_warning_package(data)
    assert (package.interval_number, package.region) == (hour, "DE")
    assert package.reports == tuple(reports)
    assert package.time_interval_warnings == ()
    assert hour == T0 // H + 5


def test_warning_package_bad_input() -> None:
    with pytest.raises(CheckInFormatError):
        decode_trace_warning_package(b"\x22\x05short")
    with pytest.raises(CheckInFormatError):
        encode_trace_warning_package(1, "DE", [ProtectedReport(b"", b"", b"", b"")])
    with pytest.raises(CheckInFormatError):
        encode_trace_warning_package(-1, "DE", [])


# --- matching and risk ------------------------------------------------------------------------


def test_cwa_example_ten_minutes_at_trl_5_is_high() -> None:
    risk = presence_risk([CheckInOverlap(0, T0, T0 + 10 * M, 5)])
    assert [r.level for r in risk.per_check_in] == [HIGH]
    assert risk.total == HIGH
    assert risk.per_day == {dt.date(2026, 11, 28): HIGH}


def test_risk_rounding_and_failed_total() -> None:
    # 9.5 minutes round half up to 10 -> HIGH at TRV 1.0; 9 min 29 s rounds to 9 -> LOW.
    assert presence_risk([CheckInOverlap(0, 0, 570, 5)]).total == HIGH
    assert presence_risk([CheckInOverlap(0, 0, 569, 5)]).total == LOW
    # An overlap that weighs 0 reaches no level at all: CWA reports CALCULATION_FAILED.
    assert presence_risk([CheckInOverlap(0, 0, 3600, 2)]).total is CALCULATION_FAILED
    assert presence_risk([]).total == LOW


def test_per_day_sums_low_check_ins_to_high() -> None:
    overlaps = [CheckInOverlap(0, T0, T0 + 6 * M, 5), CheckInOverlap(1, T0 + H, T0 + H + 6 * M, 5)]
    risk = presence_risk(overlaps)
    assert [r.level for r in risk.per_check_in] == [LOW, LOW]
    assert risk.per_day == {dt.date(2026, 11, 28): HIGH}
    assert risk.total == LOW  # the total follows the per-check-in levels only (CWA)


def test_three_level_scale() -> None:
    scale = RiskLevelScale(("low", "elevated", "high"))
    mapping = LevelMapping.of(
        [
            (Range(0, 10, min_exclusive=True, max_exclusive=True), "low"),
            (Range(10, 30, max_exclusive=True), "elevated"),
            (Range(30, 999999), "high"),
        ],
        scale,
    )
    params = PresenceRiskParameters(per_check_in=mapping, per_day=mapping)
    levels = [
        presence_risk([CheckInOverlap(0, 0, minutes * M, 5)], params).total_name
        for minutes in (5, 10, 29, 30)
    ]
    assert levels == ["low", "elevated", "elevated", "high"]


def test_risk_parameters_from_cwa_json() -> None:
    params = PresenceRiskParameters.from_json(
        {
            "transmissionRiskValueMapping": [
                {"transmissionRiskLevel": t, "transmissionRiskValue": v}
                for t, v in [
                    (1, 0),
                    (2, 0),
                    (3, 0.6),
                    (4, 0.8),
                    (5, 1.0),
                    (6, 1.2),
                    (7, 1.4),
                    (8, 1.6),
                ]
            ],
            "normalizedTimePerCheckInToRiskLevelMapping": [
                {
                    "normalizedTimeRange": {
                        "min": 0,
                        "max": 10,
                        "minExclusive": True,
                        "maxExclusive": True,
                    },
                    "riskLevel": 1,
                },
                {"normalizedTimeRange": {"min": 10, "max": 999999}, "riskLevel": 2},
            ],
            "normalizedTimePerDayToRiskLevelMapping": [
                {
                    "normalizedTimeRange": {
                        "min": 0,
                        "max": 10,
                        "minExclusive": True,
                        "maxExclusive": True,
                    },
                    "riskLevel": 1,
                },
                {"normalizedTimeRange": {"min": 10, "max": 999999}, "riskLevel": 2},
            ],
            "maxCheckInAgeInDays": 10,
        }
    )
    assert params == CWA_PRESENCE_RISK_PARAMETERS


@pytest.mark.parametrize("level", [2.5, True, 0, 3, "medium"])
def test_risk_parameters_reject_what_is_not_a_cwa_risk_level(level: object) -> None:
    # The same rule as the exposure-window configuration: 1..N (1 = lowest) or a level name.
    mapping = [{"normalizedTimeRange": {"min": 0, "max": 999999}, "riskLevel": level}]
    with pytest.raises(ConfigurationError, match="riskLevel"):
        PresenceRiskParameters.from_json(
            {
                "normalizedTimePerCheckInToRiskLevelMapping": mapping,
                "normalizedTimePerDayToRiskLevelMapping": mapping,
            }
        )


def test_tampered_report_never_becomes_a_warning() -> None:
    lid = loc_id(9)
    mine = [CheckIn(lid, T0 + 10 * H, T0 + 11 * H)]
    good = encrypt_check_in_record(lid, CheckInRecord((T0 + 10 * H) // 600, 6, 8), bytes(16))
    bad_ct = bytes([good.encrypted_check_in_record[0] ^ 1]) + good.encrypted_check_in_record[1:]
    tampered = ProtectedReport(good.location_id_hash, good.iv, bad_ct, good.mac)
    result = match_check_ins(mine, [tampered])
    assert (result.overlaps, result.reports_selected, result.reports_rejected_mac) == ((), 1, 1)
    assert check_in_risk(mine, [tampered], T0 + DAY).per_check_in == ()
    assert len(match_check_ins(mine, [good]).overlaps) == 1


def test_implausible_records_are_skipped() -> None:
    lid = loc_id(9)
    mine = [CheckIn(lid, T0, T0 + H)]
    reports = [
        encrypt_check_in_record(lid, CheckInRecord(T0 // 600, 0, 8), bytes(16)),
        encrypt_check_in_record(lid, CheckInRecord(T0 // 600, 6, 9), bytes(16)),
        encrypt_check_in_record(lid, CheckInRecord(T0 // 600, 6, 0), bytes(16)),
    ]
    result = match_check_ins(mine, reports)
    assert (result.overlaps, result.reports_rejected_content) == ((), 3)


def test_check_ins_outside_the_horizon_do_not_match() -> None:
    lid = loc_id(3)
    mine = [CheckIn(lid, T0, T0 + H)]
    report = encrypt_check_in_record(lid, CheckInRecord(T0 // 600, 6, 8), bytes(16))
    assert match_check_ins(mine, [report], T0 + H + 10 * DAY).overlaps
    assert not match_check_ins(mine, [report], T0 + H + 10 * DAY + 1).overlaps


def test_train_coach_devices() -> None:
    """Done-when: several devices in one coach, one reports; only the overlapping ones are warned.

    The positive passenger rides coach 7 from 10:00 to 12:00. Derivation widens that to
    10:00-12:30 (+30 min aerosol decay). They report the next day with the "no information"
    vector, so the part gets TRL 6 (age 1), weight 1.2. Expected normalized times:
    60 min x 1.2 = 72 (HIGH), 35 min x 1.2 = 42 (HIGH), 5 min x 1.2 = 6 (LOW).
    """
    day = dt.date(2026, 11, 28)
    coach7 = encode_qr_payload(
        train_coach_location(
            "ICE 597", "7", day, seed=b"7" * 16, departure=T0 + 9 * H, arrival=T0 + 14 * H
        )
    )
    coach8 = encode_qr_payload(
        train_coach_location(
            "ICE 597", "8", day, seed=b"8" * 16, departure=T0 + 9 * H, arrival=T0 + 14 * H
        )
    )

    def ride(payload: bytes, start: int, end: int) -> CheckIn:
        return check_in(payload, start, length_minutes=(end - start) // 60)

    positive = ride(coach7, T0 + 10 * H, T0 + 12 * H)
    devices = {
        "same time": ride(coach7, T0 + 10 * H + 30 * M, T0 + 11 * H + 30 * M),
        "aerosol tail": ride(coach7, T0 + 11 * H + 55 * M, T0 + 13 * H),
        "brief tail": ride(coach7, T0 + 12 * H + 25 * M, T0 + 13 * H),
        "after": ride(coach7, T0 + 12 * H + 30 * M, T0 + 14 * H),
        "next coach": ride(coach8, T0 + 10 * H, T0 + 12 * H),
        "next day": ride(coach7, T0 + DAY + 10 * H, T0 + DAY + 12 * H),
    }
    submitted_at = T0 + DAY + 9 * H
    reports = check_in_reports([positive], submitted_at, NO_INFORMATION_VECTOR, rng().randbytes)
    package = encode_trace_warning_package(hour_interval(submitted_at), "DE", reports)
    published = decode_trace_warning_package(package).reports

    now = T0 + DAY + 20 * H
    results = {name: check_in_risk([ci], published, now) for name, ci in devices.items()}
    times = {name: [r.normalized_time for r in res.per_check_in] for name, res in results.items()}
    assert times == {
        "same time": [pytest.approx(72)],
        "aerosol tail": [pytest.approx(42)],
        "brief tail": [pytest.approx(6)],
        "after": [],
        "next coach": [],
        "next day": [],
    }
    totals = {name: res.total for name, res in results.items()}
    assert totals == {
        "same time": HIGH,
        "aerosol tail": HIGH,
        "brief tail": LOW,
        "after": LOW,
        "next coach": LOW,
        "next day": LOW,
    }
    assert results["same time"].per_day == {day: HIGH}
    assert results["next day"].per_day == {}
    # The positive passenger's own phone does not warn them about their own report.
    assert check_in_risk([mark_submitted(positive)], published, now).per_check_in == ()


@settings(deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_as_a_package_parse_or_raise_a_typed_error(data: bytes) -> None:
    with contextlib.suppress(CheckInFormatError):
        decode_trace_warning_package(data)


@given(st.binary(max_size=40))
def test_any_plaintext_parses_or_raises_a_typed_error(data: bytes) -> None:
    with contextlib.suppress(CheckInFormatError):
        CheckInRecord.from_bytes(data)


@settings(deadline=None)
@given(
    st.integers(0, 3 * DAY),
    st.integers(1, 30 * H),
    st.integers(0, 3 * DAY // 600),
    st.integers(1, 300),
)
def test_matching_overlaps_exactly_where_the_times_intersect(
    offset: int, length: int, start_interval: int, period: int
) -> None:
    lid = loc_id(5)
    mine = [CheckIn(lid, T0 + offset, T0 + offset + length)]
    first = T0 // 600 + start_interval
    report = encrypt_check_in_record(lid, CheckInRecord(first, period, 7), bytes(16))
    overlaps = match_check_ins(mine, [report]).overlaps
    expected = max(
        0, min(T0 + offset + length, (first + period) * 600) - max(T0 + offset, first * 600)
    )
    assert sum(o.seconds for o in overlaps) == expected
    # Parts never cross a UTC midnight, so each overlap has one date.
    assert all(o.start // DAY == (o.end - 1) // DAY for o in overlaps)


@settings(deadline=None)
@given(st.integers(0, 2**33), st.integers(0, 2 * DAY))
def test_derived_intervals_lie_on_the_grid(start: int, length: int) -> None:
    from tracewarn.protocol.presence import derive_time_interval

    derived = derive_time_interval(start, start + length)
    if length < 600:
        assert derived is None
    else:
        assert derived is not None
        begin, end = derived
        assert begin % 600 == 0 and end % 600 == 0 and end > begin
