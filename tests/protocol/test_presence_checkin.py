"""Device-side check-in lifecycle: default length, automatic check-out, retention, horizon."""

from __future__ import annotations

import datetime as dt

import pytest

from tracewarn.protocol.errors import CheckInFormatError, QRCodeFormatError
from tracewarn.protocol.presence import (
    FALLBACK_CHECK_IN_LENGTH_MINUTES,
    CheckIn,
    LocationType,
    TraceLocation,
    auto_check_out,
    check_in,
    check_out,
    checkpoint_location,
    default_check_in_length_minutes,
    edit_check_in,
    encode_qr_payload,
    is_expired,
    location_id,
    prune_expired,
    train_coach_location,
    within_risk_horizon,
)

SEED = b"S" * 16
NOW = 1_764_400_000  # 2025-11-29T07:06:40Z
DAY = 86_400


def venue(**changes: object) -> TraceLocation:
    base: dict[str, object] = {
        "description": "Bakery",
        "address": "Main Street 1",
        "type": LocationType.PERMANENT_RETAIL,
        "cryptographic_seed": SEED,
    }
    base.update(changes)
    return TraceLocation(**base)  # type: ignore[arg-type]


def test_default_length_from_location() -> None:
    assert default_check_in_length_minutes(venue(default_check_in_length_minutes=45), NOW) == 45


def test_default_length_is_clamped_to_cwa_range() -> None:
    assert default_check_in_length_minutes(venue(default_check_in_length_minutes=5), NOW) == 15
    assert default_check_in_length_minutes(venue(default_check_in_length_minutes=5000), NOW) == 1425


def test_temporary_event_checks_out_at_its_end_rounded_to_quarter_hours() -> None:
    event = venue(
        type=LocationType.TEMPORARY_CULTURAL_EVENT,
        start_timestamp=NOW - 3600,
        end_timestamp=NOW + 100 * 60,
    )
    assert default_check_in_length_minutes(event, NOW) == 105


def test_event_already_over_falls_back() -> None:
    event = venue(type=LocationType.TEMPORARY_OTHER, start_timestamp=1, end_timestamp=NOW - 60)
    assert default_check_in_length_minutes(event, NOW) == FALLBACK_CHECK_IN_LENGTH_MINUTES


def test_train_checks_out_exactly_at_arrival() -> None:
    coach = train_coach_location(
        "IC 2023",
        "5",
        dt.date(2025, 11, 29),
        seed=SEED,
        departure=NOW - 600,
        arrival=NOW + 2 * 3600 + 17 * 60,
        default_length_minutes=30,
    )
    payload = encode_qr_payload(coach)
    ci = check_in(payload, NOW)
    assert ci.end == coach.end_timestamp
    assert ci.location_id == location_id(payload)
    assert ci.location == coach


def test_train_after_arrival_uses_its_default_length() -> None:
    coach = train_coach_location(
        "IC 2023",
        "5",
        dt.date(2025, 11, 29),
        seed=SEED,
        departure=NOW - 7200,
        arrival=NOW - 60,
        default_length_minutes=30,
    )
    assert default_check_in_length_minutes(coach, NOW) == 30


def test_checkpoint_defaults_to_fifteen_minutes() -> None:
    point = checkpoint_location("Border control", "Terminal 1", seed=SEED)
    assert check_in(encode_qr_payload(point), NOW).end == NOW + 15 * 60


def test_check_in_refuses_an_invalid_code() -> None:
    with pytest.raises(QRCodeFormatError, match="seed-length"):
        check_in(encode_qr_payload(venue(cryptographic_seed=b"1234")), NOW)


def test_explicit_length_and_bad_length() -> None:
    payload = encode_qr_payload(venue())
    assert check_in(payload, NOW, length_minutes=42).end == NOW + 42 * 60
    with pytest.raises(CheckInFormatError):
        check_in(payload, NOW, length_minutes=0)


def test_check_out_early_and_auto_check_out() -> None:
    ci = check_in(encode_qr_payload(venue(default_check_in_length_minutes=60)), NOW)
    early = check_out(ci, NOW + 600)
    assert (early.end, early.completed) == (NOW + 600, True)
    assert check_out(early, NOW + 1200) == early
    # Leaving "after" the automatic check-out cannot extend the stay.
    assert check_out(ci, NOW + 99_999).end == ci.end
    assert auto_check_out([ci], NOW + 3599) == [ci]
    [done] = auto_check_out([ci], NOW + 3600)
    assert done.completed and done.end == ci.end


def test_edit() -> None:
    ci = check_in(encode_qr_payload(venue()), NOW)
    assert edit_check_in(ci, start=NOW - 60, end=NOW + 60).start == NOW - 60
    with pytest.raises(CheckInFormatError):
        edit_check_in(ci, start=NOW, end=NOW)


def test_check_in_values_are_checked() -> None:
    with pytest.raises(CheckInFormatError):
        CheckIn(b"short", 0, 1)
    with pytest.raises(CheckInFormatError):
        CheckIn(bytes(32), 10, 5)


def test_retention_is_fifteen_days_after_end() -> None:
    ci = CheckIn(bytes(32), NOW - 3600, NOW)
    assert not is_expired(ci, NOW + 15 * DAY)
    assert is_expired(ci, NOW + 15 * DAY + 1)
    assert prune_expired([ci], NOW + 16 * DAY) == []


def test_risk_horizon_is_ten_days() -> None:
    ci = CheckIn(bytes(32), NOW - 3600, NOW)
    assert within_risk_horizon(ci, NOW + 10 * DAY)
    assert not within_risk_horizon(ci, NOW + 10 * DAY + 1)
