"""The device store: encryption at rest, retention on every write, key handling."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

from tracewarn.device import DeviceStore, ManualClock, Observation, SeededRandomness, StoreCorrupted
from tracewarn.device.store import RETENTION_DAYS, day_number
from tracewarn.protocol.gaen.keys import TemporaryExposureKey

START = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def _open(tmp_path: Path, clock: ManualClock, name: str = "d") -> DeviceStore:
    return DeviceStore.open(tmp_path / name, clock=clock, randomness=SeededRandomness(1, name))


def test_round_trip_of_every_table(tmp_path: Path) -> None:
    clock = ManualClock(START)
    store = _open(tmp_path, clock)
    tek = TemporaryExposureKey(bytes(range(16)), day_number(START) * 144)
    store.put_tek(tek)
    t = int(START.timestamp())
    obs = [Observation(bytes([i]) * 16, b"\x01\x02\x03\x04", t + i, -60 - i) for i in range(5)]
    assert store.add_observations(obs) == 5
    row = store.add_check_in("https://x.example/#abc", bytes(32), t, t + 600)
    store.add_notification(day_number(START), {"level": "high"})
    store.set_meta("last_sync", {"keys": 3})
    store.close()

    again = _open(tmp_path, clock)
    assert again.teks() == [tek]
    assert again.tek_for_day(day_number(START)) == tek
    assert again.observations() == obs
    [check_in] = again.check_ins()
    assert (check_in.id, check_in.start, check_in.end, check_in.submitted) == (
        row,
        t,
        t + 600,
        False,
    )
    again.mark_submitted([row])
    assert again.check_ins()[0].submitted
    assert again.notifications() == [{"level": "high"}]
    assert again.get_meta("last_sync") == {"keys": 3}
    assert again.get_meta("missing") is None


def test_nothing_sensitive_is_readable_in_the_database_file(tmp_path: Path) -> None:
    clock = ManualClock(START)
    store = _open(tmp_path, clock)
    secret_key = b"K" * 16
    rpi = b"R" * 16
    store.put_tek(TemporaryExposureKey(secret_key, day_number(START) * 144))
    store.add_observations([Observation(rpi, b"AEM!", int(START.timestamp()), -55)])
    store.add_check_in("https://cafe-lindenblute.example/#x", b"L" * 32, 1, 2)
    store.close()
    raw = (tmp_path / "d" / "device.db").read_bytes()
    for needle in (secret_key, rpi, b"AEM!", b"lindenblute", b"L" * 32, b"https://"):
        assert needle not in raw
    key_file = tmp_path / "d" / "device.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_bytes() not in raw


def test_a_store_does_not_open_with_another_devices_key(tmp_path: Path) -> None:
    clock = ManualClock(START)
    store = _open(tmp_path, clock)
    store.put_tek(TemporaryExposureKey(bytes(16), day_number(START) * 144))
    store.close()
    (tmp_path / "d" / "device.key").write_bytes(b"\x00" * 32)
    with pytest.raises(StoreCorrupted):
        _open(tmp_path, clock).teks()


def test_retention_drops_rows_older_than_14_days_on_every_write(tmp_path: Path) -> None:
    clock = ManualClock(START)
    store = _open(tmp_path, clock)
    today = day_number(START)
    for age in range(20):
        store.put_tek(TemporaryExposureKey(bytes([age]) * 16, (today - age) * 144))
    kept = {t.rolling_start_interval_number // 144 for t in store.teks()}
    assert kept == {today - age for age in range(RETENTION_DAYS)}

    t = int(START.timestamp())
    store.add_observations([Observation(b"r" * 16, b"aaaa", t, -50)])
    store.add_check_in("u", b"l" * 32, t, t + 900)
    clock.advance(dt.timedelta(days=RETENTION_DAYS - 1))
    store.enforce_retention()
    assert len(store.observations()) == 1 and len(store.check_ins()) == 1
    clock.advance(dt.timedelta(days=1))
    store.set_meta("anything", 1)  # any write sweeps
    assert store.observations() == [] and store.check_ins() == []
    assert store.get_meta("anything") == 1


def test_seeded_randomness_is_reproducible_and_separated_by_name() -> None:
    a, b = SeededRandomness(5, "x"), SeededRandomness(5, "x")
    assert a.token_bytes(7) + a.token_bytes(50) == b.token_bytes(57)
    assert SeededRandomness(5, "y").token_bytes(16) != SeededRandomness(5, "x").token_bytes(16)
    assert SeededRandomness(6, "x").token_bytes(16) != SeededRandomness(5, "x").token_bytes(16)


def test_manual_clock_rejects_naive_times() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ManualClock(dt.datetime(2026, 1, 1))
