"""Each key counted once: on real daily and hourly packages the backend publishes.

The backend publishes a day's keys twice (the hour packages and the day package), and a person
who reports twice publishes the same keys again. Matching must count such a key once, in
`tracewarn match` and on the device, or the risk of a day doubles.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.device.conftest import START, Backend
from tests.device.test_sync import _meet
from tracewarn.cli import app
from tracewarn.device import VirtualDevice
from tracewarn.protocol.matching import (
    DiagnosisKeyBatch,
    KeySet,
    dump_observations,
    match_exports,
)
from tracewarn.protocol.matching.store import ObservationStore

_KEYS = "/version/v1/diagnosis-keys/country/DE/date"
runner = CliRunner()


def _packages(backend: Backend) -> tuple[list[bytes], list[bytes]]:
    """Every published daily package and every published hour package."""
    days = backend.client.get(_KEYS).json()
    daily = [backend.client.get(f"{_KEYS}/{d}").content for d in days]
    hourly = []
    for d in [*days, backend.clock.now().date().isoformat()]:
        index = backend.client.get(f"{_KEYS}/{d}/hour")
        if index.status_code == 200:
            hourly += [backend.client.get(f"{_KEYS}/{d}/hour/{h}").content for h in index.json()]
    return daily, hourly


def _observations(phone: VirtualDevice) -> ObservationStore:
    records = phone.store.observation_records()
    return ObservationStore.from_arrays(
        records["rpi"].tobytes(), records["aem"].tobytes(), records["time"], records["rssi"]
    )


def _case_reports_and_day_is_published(backend: Backend) -> tuple[VirtualDevice, VirtualDevice]:
    case, contact = backend.device("case"), backend.device("contact")
    _meet(case, contact, backend, minutes=30, rssi=-60)
    backend.clock.set(START + dt.timedelta(hours=20))
    case.report(backend.client, guid=backend.positive_code(), onset=START.date())
    # Two days on, the hours holding the keys and the day package holding them again are out.
    backend.clock.set(START + dt.timedelta(days=3))
    backend.publish()
    return case, contact


def test_a_day_matched_with_its_hours_counts_each_key_once(
    backend: Backend, tmp_path: Path
) -> None:
    _, contact = _case_reports_and_day_is_published(backend)
    daily, hourly = _packages(backend)
    assert daily and hourly, "the backend published both kinds of package"
    store = _observations(contact)
    now = int(backend.clock.now().timestamp())

    alone = match_exports(daily, store, now=now)
    both = match_exports([*daily, *hourly], store, now=now)
    assert alone.stats.matched_keys >= 1
    assert both.stats.keys == alone.stats.keys  # padding keys included, each once
    assert both.stats.keys_duplicate >= alone.stats.keys  # every daily key was in an hour
    assert both.stats.matched_sightings == alone.stats.matched_sightings
    assert both.exposure_windows() == alone.exposure_windows()

    # The same through the command line: files on disk, text and JSON.
    paths = []
    for i, data in enumerate([*daily, *hourly]):
        paths.append(tmp_path / f"package-{i}.zip")
        paths[-1].write_bytes(data)
    observations = tmp_path / "sightings.jsonl"
    observations.write_bytes(dump_observations(store, "jsonl"))
    when = backend.clock.now().isoformat()
    one = runner.invoke(app, ["match", str(paths[0]), "-o", str(observations), "--now", when,
                              "--json"])  # fmt: skip
    every = runner.invoke(app, ["match", *map(str, paths), "-o", str(observations), "--now",
                                when, "--json"])  # fmt: skip
    assert one.exit_code == 0 and every.exit_code == 0, (one.output, every.output)
    one_json, every_json = json.loads(one.output), json.loads(every.output)
    assert every_json["exposureWindows"] == one_json["exposureWindows"]
    assert every_json["stats"]["matched_sightings"] == one_json["stats"]["matched_sightings"]
    assert every_json["stats"]["keys_duplicate"] == every_json["stats"]["keys"]
    text = runner.invoke(app, ["match", *map(str, paths), "-o", str(observations), "--now", when])
    assert f"Matched {every_json['stats']['matched_keys']} of {every_json['stats']['keys']}" in (
        text.output
    )


def test_a_key_downloaded_again_does_not_double_the_risk_on_the_device(
    backend: Backend,
) -> None:
    # The backend itself refuses a key uploaded twice, and a phone takes a day's package or its
    # hours, never both; but a phone that lost its download list (a restored backup) or gets a
    # key again from another route fetches the same keys again. They replace, never add.
    _, contact = _case_reports_and_day_is_published(backend)
    first = contact.sync(backend.client)
    windows = contact.store.get_meta("exposure_windows")
    assert first.new_windows >= 1 and first.notification.level == "high"

    state = contact.store.get_meta("sync")
    contact.store.set_meta("sync", {**state, "packages": []})
    backend.clock.set(backend.clock.now() + dt.timedelta(hours=1))
    second = contact.sync(backend.client)
    assert second.key_packages == first.key_packages  # everything downloaded again
    assert contact.store.get_meta("exposure_windows") == windows  # replaced, not added
    assert second.notification.explanation == first.notification.explanation
    assert (second.notification.level, second.notification.date) == (
        first.notification.level,
        first.notification.date,
    )
    assert not second.raised


def test_keyset_drops_repeats_within_and_across_batches() -> None:
    keys = bytes(range(16)) + bytes(range(1, 17)) + bytes(range(16))
    batch = DiagnosisKeyBatch.from_arrays(keys, [100, 100, 100])
    seen = KeySet()
    first = seen.new_keys(batch)
    assert first.key_data == keys[:32] and seen.duplicates == 1
    # Same key data with another rolling start is another key.
    other = seen.new_keys(DiagnosisKeyBatch.from_arrays(bytes(range(16)) * 2, [100, 244]))
    assert list(other.rolling_start) == [244] and seen.duplicates == 2
    assert len(seen) == 3


@pytest.mark.parametrize("files", [1, 7, 40])
def test_keyset_matches_a_set_of_tuples(files: int) -> None:
    import numpy as np

    rng = np.random.default_rng(files)
    pool = rng.integers(0, 256, size=(50, 16), dtype=np.uint8)
    seen, reference = KeySet(), set()
    for _ in range(files):
        rows = rng.integers(0, 50, size=30)
        starts = rng.integers(0, 3, size=30) * 144
        batch = DiagnosisKeyBatch.from_arrays(pool[rows].tobytes(), starts)
        new = seen.new_keys(batch)
        expected = []
        for r, s in zip(rows, starts, strict=True):
            if (bytes(pool[r]), int(s)) not in reference:
                reference.add((bytes(pool[r]), int(s)))
                expected.append((bytes(pool[r]), int(s)))
        got = [(new.key(i), int(new.rolling_start[i])) for i in range(len(new))]
        assert got == expected
    assert len(seen) == len(reference)
