"""The virtual device: key schedule, advertisements, check-ins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tracewarn.device import ManualClock, SeededRandomness, VirtualDevice
from tracewarn.device.store import day_number
from tracewarn.protocol.errors import QRCodeFormatError
from tracewarn.protocol.gaen.keys import (
    BluetoothMetadata,
    aem_key,
    decrypt_metadata,
    en_interval_number,
    rolling_proximity_identifier,
    rpi_key,
)
from tracewarn.protocol.presence.location import LocationType, TraceLocation, encode_qr_payload
from tracewarn.protocol.presence.qr import build_qr_url

START = dt.datetime(2026, 11, 2, 23, 50, tzinfo=dt.UTC)


def _device(tmp_path: Path, clock: ManualClock) -> VirtualDevice:
    return VirtualDevice.open(tmp_path / "phone", clock=clock, randomness=SeededRandomness(3, "p"))


def test_a_new_key_starts_at_utc_midnight(tmp_path: Path) -> None:
    clock = ManualClock(START)
    device = _device(tmp_path, clock)
    first = device.current_tek()
    assert first.rolling_start_interval_number == day_number(START) * 144
    assert first.covers(en_interval_number(START))
    clock.advance(dt.timedelta(minutes=9))
    assert device.current_tek() == first
    clock.advance(dt.timedelta(minutes=1))  # 00:00 UTC
    second = device.current_tek()
    assert second.key_data != first.key_data
    assert second.rolling_start_interval_number == first.rolling_start_interval_number + 144
    assert [t.key_data for t in device.store.teks()] == [first.key_data, second.key_data]


def test_advertisement_is_the_spec_rpi_and_aem(tmp_path: Path) -> None:
    clock = ManualClock(START)
    device = _device(tmp_path, clock)
    rpi, aem = device.advertisement()
    tek = device.current_tek()
    assert rpi == rolling_proximity_identifier(rpi_key(tek.key_data), en_interval_number(START))
    metadata = BluetoothMetadata.from_bytes(decrypt_metadata(aem_key(tek.key_data), rpi, aem))
    assert metadata.tx_power == device.config.tx_power


def test_keys_survive_reopening(tmp_path: Path) -> None:
    clock = ManualClock(START)
    device = _device(tmp_path, clock)
    tek = device.current_tek()
    device.close()
    assert _device(tmp_path, clock).current_tek() == tek


def _qr_url() -> str:
    location = TraceLocation(
        description="Café Lindenblüte",
        address="Marktplatz 3",
        type=LocationType.PERMANENT_FOOD_SERVICE,
        cryptographic_seed=bytes(range(16)),
        default_check_in_length_minutes=30,
    )
    return build_qr_url(encode_qr_payload(location))


def test_check_in_uses_the_codes_default_length(tmp_path: Path) -> None:
    clock = ManualClock(START)
    device = _device(tmp_path, clock)
    stored = device.check_in(_qr_url())
    assert stored.end - stored.start == 30 * 60
    assert len(stored.location_id) == 32
    t = int(START.timestamp()) - 3600
    explicit = device.check_in(_qr_url(), start=t, end=t + 900)
    assert (explicit.start, explicit.end) == (t, t + 900)
    assert [c.id for c in device.store.check_ins()] == [stored.id, explicit.id]
    device.check_in(_qr_url(), start=100_000, end=100_900)  # 1970: past retention, not kept
    assert len(device.store.check_ins()) == 2


def test_a_bad_code_is_a_typed_error(tmp_path: Path) -> None:
    device = _device(tmp_path, ManualClock(START))
    with pytest.raises(QRCodeFormatError):
        device.check_in("https://example.org/not-a-code")
