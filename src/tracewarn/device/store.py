"""The device's local store: one SQLite file, sensitive values sealed with the device key.

Theory of operation. Every row that says anything about the user (own keys, what was observed,
where they checked in, warnings received) is stored as one AES-GCM blob (see `_sealing`), padded
to a size bucket. The only cleartext column is the UTC day number of a row, kept so that the
14-day retention can delete old rows with one indexed statement on every write, without the
key. Settings and sync state (`meta`) are a fixed set of rows created when the store is created
(`META_NAMES`, each sealed `null` until set, never deleted) under keyed-hash names, so the file
does not say which settings exist, e.g. whether the phone ever reported. Someone holding only
the database file learns how many rows exist per day and their sizes to within a factor of two,
and nothing else; someone holding both the database and the key file (i.e. the unlocked phone)
learns everything, as on a real phone.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracewarn.device._sealing import Sealer, StoreCorrupted, load_or_create_key
from tracewarn.device.clock import Clock, Randomness
from tracewarn.protocol.gaen.keys import EKROLLING_PERIOD, TemporaryExposureKey

__all__ = [
    "META_NAMES",
    "OBSERVATION_DTYPE",
    "RETENTION_DAYS",
    "DeviceStore",
    "Observation",
    "StoreCorrupted",
    "StoredCheckIn",
    "day_number",
]

RETENTION_DAYS = 14
DB_NAME = "device.db"
KEY_NAME = "device.key"
_DATED_TABLES = ("teks", "observations", "checkins", "notifications")
# Every setting the app keeps: all exist from the start, so their presence says nothing.
META_NAMES = (
    "config",
    "exposure_window_keys",
    "exposure_windows",
    "pending_tan",
    "reported",
    "risk",
    "server_url",
    "signing_keys",
    "sync",
    "warnings",
)
_OBSERVATION = struct.Struct("<16s4sqb")
# The same 29-byte layout as a numpy record, for simulators that build observations in bulk.
OBSERVATION_DTYPE = np.dtype([("rpi", "S16"), ("aem", "S4"), ("time", "<i8"), ("rssi", "i1")])

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS teks (day INTEGER PRIMARY KEY, sealed BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS observations (id INTEGER PRIMARY KEY, day INTEGER NOT NULL,
    sealed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS observations_day ON observations(day);
CREATE TABLE IF NOT EXISTS checkins (id INTEGER PRIMARY KEY, day INTEGER NOT NULL,
    sealed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS checkins_day ON checkins(day);
CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY, day INTEGER NOT NULL,
    sealed BLOB NOT NULL);
"""


def _is_name_id(name: str) -> bool:
    return len(name) == 32 and all(c in "0123456789abcdef" for c in name)


def day_number(moment: dt.datetime | int) -> int:
    """UTC day index (days since 1970-01-01) of a moment or a Unix time in seconds."""
    seconds = int(moment.timestamp()) if isinstance(moment, dt.datetime) else moment
    return seconds // 86400


@dataclass(frozen=True, slots=True)
class Observation:
    """One received advertisement: RPI and AEM as broadcast, when (Unix s), and the RSSI in dBm."""

    rpi: bytes
    aem: bytes
    time: int
    rssi: int


@dataclass(frozen=True, slots=True)
class StoredCheckIn:
    """A check-in kept on the device. `qr_url` and `location_id` never leave it in clear."""

    id: int
    qr_url: str
    location_id: bytes
    start: int
    end: int
    submitted: bool = False


class DeviceStore:
    """Encrypted local store of one device. Open with `DeviceStore.open(directory, ...)`."""

    def __init__(self, conn: sqlite3.Connection, sealer: Sealer, clock: Clock) -> None:
        self._conn = conn
        self._sealer = sealer
        self._clock = clock
        self._install_meta()

    def _install_meta(self) -> None:
        """Create the fixed meta rows; rename rows of older stores that used clear names."""
        rows = self._conn.execute("SELECT name, sealed FROM meta").fetchall()
        ids = {name for name, _ in rows}
        self._conn.execute("BEGIN")
        try:
            for name, sealed in rows:
                if name in META_NAMES or not _is_name_id(name):
                    value = self._sealer.open("meta:" + name, 0, sealed)
                    self._conn.execute("DELETE FROM meta WHERE name = ?", (name,))
                    self._put_meta(name, value)
                    ids.add(self._sealer.name_id(name))
            for name in META_NAMES:
                if self._sealer.name_id(name) not in ids:
                    self._put_meta(name, b"null")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _put_meta(self, name: str, plaintext: bytes) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO meta (name, sealed) VALUES (?, ?)",
            (self._sealer.name_id(name), self._sealer.seal("meta:" + name, 0, plaintext)),
        )

    @classmethod
    def open(
        cls, directory: Path, *, clock: Clock, randomness: Randomness, durable: bool = True
    ) -> DeviceStore:
        """Open (or create) the store in `directory`: `device.db` plus the separate `device.key`.

        `durable=False` skips waiting for the disk (simulations with thousands of phones).
        """
        directory.mkdir(parents=True, exist_ok=True)
        key = load_or_create_key(directory / KEY_NAME, randomness)
        conn = sqlite3.connect(directory / DB_NAME, isolation_level=None)
        # WAL with synchronous=NORMAL, as Android's SQLite does: a crash may lose the last
        # write, never corrupt the file, and commits do not wait for the disk.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'NORMAL' if durable else 'OFF'}")
        # Overwrite deleted rows (expired days, replaced settings) instead of leaving them in
        # free pages of the file.
        conn.execute("PRAGMA secure_delete=ON")
        conn.executescript(_SCHEMA)
        return cls(conn, Sealer(key, randomness), clock)

    @classmethod
    def in_memory(cls, key: bytes, *, clock: Clock, randomness: Randomness) -> DeviceStore:
        """A store that lives in memory only (simulations with many devices, tests)."""
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.executescript(_SCHEMA)
        return cls(conn, Sealer(key, randomness), clock)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # Retention runs inside every write transaction, so no write path can forget it.
        cutoff = day_number(self._clock.now()) - RETENTION_DAYS + 1
        self._conn.execute("BEGIN")
        try:
            yield self._conn
            # After the write, so that a row already too old when written is not kept either.
            for table in _DATED_TABLES:
                self._conn.execute(f"DELETE FROM {table} WHERE day < ?", (cutoff,))  # noqa: S608
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # -- settings and sync state -------------------------------------------------------------

    def get_meta(self, name: str) -> Any:
        row = self._conn.execute(
            "SELECT sealed FROM meta WHERE name = ?", (self._sealer.name_id(name),)
        ).fetchone()
        if row is None:
            return None
        return json.loads(self._sealer.open("meta:" + name, 0, row[0]))

    def set_meta(self, name: str, value: Any) -> None:
        """Store a setting; `None` seals `null` in the same row (rows are never deleted)."""
        with self._write():
            self._put_meta(name, json.dumps(value).encode())

    # -- own temporary exposure keys ---------------------------------------------------------

    def put_tek(self, tek: TemporaryExposureKey) -> None:
        day = tek.rolling_start_interval_number // EKROLLING_PERIOD
        plain = struct.pack(
            "<16sIH", tek.key_data, tek.rolling_start_interval_number, tek.rolling_period
        )
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO teks (day, sealed) VALUES (?, ?)",
                (day, self._sealer.seal("teks", day, plain)),
            )

    def tek_for_day(self, day: int) -> TemporaryExposureKey | None:
        row = self._conn.execute("SELECT sealed FROM teks WHERE day = ?", (day,)).fetchone()
        return None if row is None else self._open_tek(day, row[0])

    def teks(self) -> list[TemporaryExposureKey]:
        rows = self._conn.execute("SELECT day, sealed FROM teks ORDER BY day").fetchall()
        return [self._open_tek(day, sealed) for day, sealed in rows]

    def _open_tek(self, day: int, sealed: bytes) -> TemporaryExposureKey:
        key_data, start, period = struct.unpack("<16sIH", self._sealer.open("teks", day, sealed))
        return TemporaryExposureKey(key_data, start, period)

    # -- observations --------------------------------------------------------------------------

    def add_observations(self, observations: Iterable[Observation]) -> int:
        # One sealed row per UTC day per call: a phone records scans in batches too, and sealing
        # a batch instead of each scan keeps a 5-day town simulation inside its time budget.
        by_day: dict[int, list[bytes]] = {}
        for obs in observations:
            packed = _OBSERVATION.pack(obs.rpi, obs.aem, obs.time, obs.rssi)
            by_day.setdefault(day_number(obs.time), []).append(packed)
        rows = [
            (day, self._sealer.seal("observations", day, b"".join(chunks)))
            for day, chunks in sorted(by_day.items())
        ]
        with self._write() as conn:
            conn.executemany("INSERT INTO observations (day, sealed) VALUES (?, ?)", rows)
        return sum(len(chunks) for chunks in by_day.values())

    def add_observation_records(self, records: npt.NDArray[np.void]) -> int:
        """Bulk form of `add_observations`: a structured array of `OBSERVATION_DTYPE` rows."""
        if records.dtype != OBSERVATION_DTYPE:
            raise ValueError("observation records must have OBSERVATION_DTYPE")
        days = records["time"] // 86400
        rows = []
        for day in np.unique(days):
            chunk = np.ascontiguousarray(records[days == day]).tobytes()
            rows.append((int(day), self._sealer.seal("observations", int(day), chunk)))
        with self._write() as conn:
            conn.executemany("INSERT INTO observations (day, sealed) VALUES (?, ?)", rows)
        return len(records)

    def _observation_bytes(self) -> bytes:
        rows = self._conn.execute("SELECT day, sealed FROM observations ORDER BY id").fetchall()
        return b"".join(self._sealer.open("observations", day, sealed) for day, sealed in rows)

    def observation_records(self) -> npt.NDArray[np.void]:
        """All observations as one structured array (`OBSERVATION_DTYPE`)."""
        return np.frombuffer(self._observation_bytes(), dtype=OBSERVATION_DTYPE)

    def observations(self) -> list[Observation]:
        return [Observation(*f) for f in _OBSERVATION.iter_unpack(self._observation_bytes())]

    # -- check-ins -----------------------------------------------------------------------------

    def add_check_in(self, qr_url: str, location_id: bytes, start: int, end: int) -> int:
        day = day_number(end)
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO checkins (day, sealed) VALUES (?, ?)",
                (day, self._seal_check_in(day, qr_url, location_id, start, end, submitted=False)),
            )
        return int(cursor.lastrowid or 0)

    def check_ins(self) -> list[StoredCheckIn]:
        rows = self._conn.execute("SELECT id, day, sealed FROM checkins ORDER BY id").fetchall()
        out = []
        for row_id, day, sealed in rows:
            data = json.loads(self._sealer.open("checkins", day, sealed))
            out.append(
                StoredCheckIn(
                    row_id,
                    data["qr_url"],
                    bytes.fromhex(data["location_id"]),
                    data["start"],
                    data["end"],
                    data["submitted"],
                )
            )
        return out

    def mark_submitted(self, check_in_ids: Iterable[int]) -> None:
        wanted = set(check_in_ids)
        updates = [
            (
                self._seal_check_in(
                    day_number(c.end), c.qr_url, c.location_id, c.start, c.end, submitted=True
                ),
                c.id,
            )
            for c in self.check_ins()
            if c.id in wanted
        ]
        with self._write() as conn:
            conn.executemany("UPDATE checkins SET sealed = ? WHERE id = ?", updates)

    def _seal_check_in(
        self, day: int, qr_url: str, location_id: bytes, start: int, end: int, *, submitted: bool
    ) -> bytes:
        data = {
            "qr_url": qr_url,
            "location_id": location_id.hex(),
            "start": start,
            "end": end,
            "submitted": submitted,
        }
        return self._sealer.seal("checkins", day, json.dumps(data).encode())

    # -- notifications -------------------------------------------------------------------------

    def add_notification(self, day: int, payload: dict[str, Any]) -> None:
        sealed = self._sealer.seal("notifications", day, json.dumps(payload).encode())
        with self._write() as conn:
            conn.execute("INSERT INTO notifications (day, sealed) VALUES (?, ?)", (day, sealed))

    def notifications(self) -> list[dict[str, Any]]:
        rows = self._conn.execute("SELECT day, sealed FROM notifications ORDER BY id").fetchall()
        return [json.loads(self._sealer.open("notifications", d, s)) for d, s in rows]

    def enforce_retention(self) -> None:
        """Run the retention sweep without writing anything else (e.g. at app start)."""
        with self._write():
            pass

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
            for table in _DATED_TABLES
        }
