"""`--full-protocol`: the same epidemic, with every app user a real virtual device.

Theory of operation. `FullProtocolApp` is the fast mode's `AppLayer` with its warning step
replaced by the real protocol. The epidemic, the uploads' delays and every random draw are the
fast mode's (it calls the same code, so the same seed gives the same draws); what changes is how
a warning is decided:

- each app-user contact the fast mode turns into exposure windows becomes real sightings: the
  receiving phone records the uploader phone's RPIs (of that day's TEK) with the window's
  attenuation as RSSI, one sighting every 5 minutes, each window starting on its own 30-minute
  slot of the contact day, so the device's window builder (`KeyDayMatch.exposure_windows`)
  cuts exactly the windows the fast mode scores;
- an uploading case's phone gets a lab code, a TAN and uploads its TEKs through the real backend
  (in-process ASGI, SQLite in a temporary directory) on its upload day, with the symptom answer
  the fast mode uses for its TRLs;
- on the day the fast mode's delays deliver keys, the backend's hourly job publishes signed
  packages and the receiving phones sync, verify, match on the device and score with the same
  risk configuration; the phone's level feeds the model's quarantine exactly where the fast
  mode's `warn` result does.

Sightings are written when a contact's keys are delivered rather than on the contact day: the
observation times are the contact's, and a sighting of a key nobody uploads can never match, so
the phone decides the same thing while the run stays small. Only phones that received sightings
of the delivered keys sync that day; any other phone has nothing the new packages could match.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracewarn.device import ManualClock, VirtualDevice
from tracewarn.device.clock import SeededRandomness
from tracewarn.device.store import Observation
from tracewarn.protocol.presence.risk_vector import SymptomAnswer
from tracewarn.protocol.risk import CWA_1_15, FOUR_LEVEL_CONFIG
from tracewarn.sim.epidemic.app import AppLayer
from tracewarn.sim.epidemic.model import Model
from tracewarn.sim.epidemic.params import Params
from tracewarn.sim.epidemic.people import People
from tracewarn.sim.epidemic.risk_table import SCAN_SECONDS, WINDOW_SCANS

__all__ = [
    "MAX_FULL_PROTOCOL_POPULATION",
    "START",
    "FullProtocolApp",
    "full_protocol_model",
    "full_protocol_params",
]

I64 = npt.NDArray[np.int64]
MAX_FULL_PROTOCOL_POPULATION = 2_000
START = dt.date(2026, 11, 2)  # day 0 of the simulation (a UTC date, as phones count days)
SLOT_SECONDS = WINDOW_SCANS * SCAN_SECONDS  # one 30-minute slot per exposure window
HOUR = 3600
REPORT_HOUR = 20  # the case's phone uploads at 20:00 of its upload day (device clock)
PUBLISH_HOUR = 21  # the backend's hourly job of the delivery day
SYNC_HOUR = 22  # the receiving phones sync after it


def _unix(day: int, hour: int, minute: int = 0) -> int:
    base = dt.datetime.combine(START, dt.time(), tzinfo=dt.UTC).timestamp()
    return int(base) + day * 86400 + hour * HOUR + minute * 60


def _moment(unix: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC)


class FullProtocolApp(AppLayer):
    """The app layer with real devices, a real backend and on-device matching."""

    def __init__(
        self, p: Params, people: People, workdir: Path, backend: Any, server_clock: ManualClock
    ) -> None:
        super().__init__(p, people)
        self.workdir = workdir
        self.backend = backend
        self.clock = ManualClock(_moment(_unix(0, 0)))
        self.config = {"four-level": FOUR_LEVEL_CONFIG, "cwa": CWA_1_15}[p.risk_config]
        self._devices: dict[int, VirtualDevice] = {}
        self._reports: dict[int, tuple[int, int]] = {}  # person -> (upload day, onset)
        self._reported: set[int] = set()
        self._slot: dict[tuple[int, int, int], int] = {}  # (receiver, uploader, day) -> next slot
        self._phone_level = np.zeros(people.n, dtype=np.int64)
        self.syncs = 0
        self.sightings = 0
        self._receivers: set[int] = set()
        self.fast_warnings: list[tuple[I64, I64]] = []
        self.server_clock = server_clock  # the backend's: at the delivery day when keys arrive
        self._today = 0

    def device(self, person: int) -> VirtualDevice:
        dev = self._devices.get(person)
        if dev is None:
            dev = VirtualDevice.open(
                self.workdir / f"phone-{person}",
                clock=self.clock,
                randomness=SeededRandomness(self.p.seed, f"phone/{person}"),
                durable=False,
            )
            self._devices[person] = dev
        return dev

    def close(self) -> None:
        for dev in self._devices.values():
            dev.close()
        self._devices.clear()

    def upload(self, day: int, person: I64, onset: I64) -> I64:
        done = super().upload(day, person, onset)
        ok = np.isin(person, done)
        for who, o in zip(person[ok].tolist(), onset[ok].tolist(), strict=True):
            self._reports[int(who)] = (day, int(o))
        return done

    def _report(self, person: int) -> None:
        """The case's phone: lab result -> code -> TAN -> upload, on its upload day."""
        uday, onset = self._reports[person]
        self.clock.set(_moment(_unix(uday, REPORT_HOUR)))
        self.server_clock.set(_moment(_unix(self._today, REPORT_HOUR)))
        client = self.backend.client
        response = client.post(
            "/version/v1/lab/results",
            json={"result": "positive"},
            headers={"X-API-Key": self.backend.lab_key},
        )
        response.raise_for_status()
        code = str(response.json()["code"])
        dev = self.device(person)
        if onset < 0:
            dev.report(client, guid=code, answer=SymptomAnswer.NO_SYMPTOMS)
        else:
            dev.report(client, guid=code, onset=START + dt.timedelta(days=onset))
        self._reported.add(person)

    def _windows(
        self, u: I64, v: I64, layer: I64, trl: I64, cday: int
    ) -> tuple[I64, npt.NDArray[np.float64]]:
        r, t, su, sv, att, scans = self._draw_windows(u, v, layer, trl)
        for a, b, at, k in zip(su.tolist(), sv.tolist(), att.tolist(), scans.tolist(), strict=True):
            self._sightings(a, b, cday, int(at), int(k))
        return r, t

    def _sightings(self, uploader: int, receiver: int, cday: int, att: int, scans: int) -> None:
        """`scans` sightings 5 minutes apart of the uploader's RPIs, on a fresh 30-minute slot."""
        key = (receiver, uploader, cday)
        slot = self._slot.get(key, 0)
        self._slot[key] = slot + 1
        if slot >= 86400 // SLOT_SECONDS:
            raise RuntimeError("more than a day of windows between two phones")
        start = _unix(cday, 0) + slot * SLOT_SECONDS
        up = self.device(uploader)
        rx = self.device(receiver)
        obs = []
        for k in range(scans):
            t = start + k * SCAN_SECONDS
            rpi, aem = up.advertisement(_moment(t))
            obs.append(Observation(rpi, aem, t, up.config.tx_power - att))
        rx.observe_many(obs)
        self._receivers.add(receiver)
        self.sightings += len(obs)

    def warn(self, day: int) -> tuple[I64, I64]:
        slot = self._pending.get(day)
        if slot is None or not slot.person:
            self._pending.pop(day, None)
            return np.empty(0, np.int64), np.empty(0, np.int64)
        self._today = day
        due = sorted({int(x) for x in np.concatenate(slot.person).tolist()})
        # The sightings first (they happened on the contact days), then the case's upload.
        self._receivers = set()
        fast_who, fast_level = super().warn(day)
        for person in due:
            if person not in self._reported:
                self._report(person)
        self.server_clock.set(_moment(_unix(day, PUBLISH_HOUR, 5)))
        self.backend.publish(_unix(day, PUBLISH_HOUR, 5))
        self.clock.set(_moment(_unix(day, SYNC_HOUR)))
        who, level = [], []
        for person in sorted(self._receivers):
            note = self.device(person).sync(self.backend.client, config=self.config)
            self.syncs += 1
            lvl = _level_index(self.config, note.notification.level)
            # The same rule as the fast mode: a phone warns when its level rises.
            if lvl > self._phone_level[person]:
                who.append(person)
                level.append(lvl)
                self._phone_level[person] = lvl
        # What the fast mode decided from the same windows, kept for tests and diagnosis.
        self.fast_warnings.append((fast_who, fast_level))
        return np.array(who, dtype=np.int64), np.array(level, dtype=np.int64)


def _level_index(config: Any, name: str) -> int:
    if name in ("none", "failed"):
        return 0
    names = [n.lower() for n in config.scale.names]
    return names.index(name)


def full_protocol_params(p: Params) -> Params:
    """The parameters of a full-protocol run (and of the fast run it is compared with).

    Check-ins (the presence layer) are off: the full-protocol mode proves the proximity path
    (TEKs, RPIs, sightings, uploads, packages, on-device matching); presence warnings keep being
    scored by the fast mode only."""
    if p.population > MAX_FULL_PROTOCOL_POPULATION:
        raise ValueError(
            f"--full-protocol runs real phones: at most {MAX_FULL_PROTOCOL_POPULATION:,} people, "
            f"got {p.population:,}"
        )
    return p.with_(place_visit_probability=0.0)


@contextlib.contextmanager
def full_protocol_model(p: Params) -> Iterator[Model]:
    """A `Model` whose app users are real phones talking to a real backend in a temp dir.

    The backend is the project's FastAPI app on SQLite through the in-process ASGI transport,
    with the demo's settings (`sim._server.demo_backend`): uploads publish without waiting for
    the production thresholds (10 uploads / 140 keys a batch), because the fast mode models no
    such hold-back, and keys of every TRL are published (`min_published_trl=1`), because the
    fast mode scores every TRL.
    """
    from tracewarn.sim._server import demo_backend

    with tempfile.TemporaryDirectory(prefix="tracewarn-full-") as tmp:
        root = Path(tmp)
        server_clock = ManualClock(_moment(_unix(0, 0)))
        (root / "server").mkdir()
        with demo_backend(
            root / "server", server_clock, loopback=False, min_published_trl=1
        ) as backend:
            apps: list[FullProtocolApp] = []

            def factory(params: Params, people: People) -> AppLayer:
                app = FullProtocolApp(params, people, root, backend, server_clock)
                apps.append(app)
                return app

            try:
                yield Model(full_protocol_params(p), app_factory=factory)
            finally:
                for app in apps:
                    app.close()
