"""A lost phone's store file (without its key) does not say whether it reported, nor counts."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tracewarn.device import DeviceStore, ManualClock, Observation, SeededRandomness
from tracewarn.device.store import DB_NAME, KEY_NAME, META_NAMES

START = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def _open(folder: Path) -> DeviceStore:
    return DeviceStore.open(
        folder, clock=ManualClock(START), randomness=SeededRandomness(3, folder.name)
    )


def _meta_rows(folder: Path) -> dict[str, int]:
    with sqlite3.connect(folder / DB_NAME) as conn:
        return {name: len(sealed) for name, sealed in conn.execute("SELECT name, sealed FROM meta")}


def test_meta_rows_are_fixed_at_install_and_do_not_name_themselves(tmp_path: Path) -> None:
    quiet, reporter = tmp_path / "quiet", tmp_path / "reporter"
    _open(quiet).close()
    store = _open(reporter)
    store.set_meta("pending_tan", "3f1b0d6e-8f0a-4c55-9d2c-5b7e2f1a0c44")
    store.set_meta("reported", {"reported_at": 1, "keys": 15, "check_ins": 3})
    store.set_meta("pending_tan", None)
    store.close()
    quiet_rows, reporter_rows = _meta_rows(quiet), _meta_rows(reporter)
    assert len(quiet_rows) == len(reporter_rows) == len(META_NAMES)
    # Same sizes: one phone reported, the other never did, and the files cannot tell.
    assert sorted(quiet_rows.values()) == sorted(reporter_rows.values())
    raw = (reporter / DB_NAME).read_bytes()
    for name in META_NAMES:
        assert name.encode() not in raw
    assert _open(reporter).get_meta("reported")["keys"] == 15


def test_sealed_sizes_hide_sighting_counts(tmp_path: Path) -> None:
    store = _open(tmp_path / "d")
    t = int(START.timestamp())
    for count in (3, 7):
        store.add_observations(
            [Observation(os.urandom(16), b"aaaa", t + i, -60) for i in range(count)]
        )
    with sqlite3.connect(tmp_path / "d" / DB_NAME) as conn:
        sizes = [len(s) for (s,) in conn.execute("SELECT sealed FROM observations")]
    assert len(sizes) == 2 and sizes[0] == sizes[1]
    assert len(store.observations()) == 10


def test_a_store_from_before_padding_and_hashed_names_still_opens(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    _open(folder).close()
    key = (folder / KEY_NAME).read_bytes()
    nonce = os.urandom(12)
    legacy = nonce + AESGCM(key).encrypt(
        nonce, b'"https://old.example"', b"tracewarn-device|meta:server_url|0"
    )
    with sqlite3.connect(folder / DB_NAME) as conn:
        conn.execute("INSERT INTO meta (name, sealed) VALUES ('server_url', ?)", (legacy,))
    store = _open(folder)
    assert store.get_meta("server_url") == "https://old.example"
    assert len(_meta_rows(folder)) == len(META_NAMES)
    assert b"server_url" not in (folder / DB_NAME).read_bytes()
