"""The virtual device: own keys, what it heard, where it checked in; sync and report on top.

Theory of operation (GAEN crypto spec; CWA event registration [docs/specifications.md#cwa-events]). A device has one temporary exposure key per
UTC day, created lazily the first time the day's key is needed, valid from that midnight for 144
intervals; every 10-minute interval it advertises that key's RPI with the AEM of its Bluetooth
metadata. It records what it hears (RPI, AEM, time, RSSI) and its check-ins in its encrypted
store, which forgets everything older than 14 days on every write. Everything that needs the
time asks the injected `Clock`; every random byte comes from the injected `Randomness`. The
backend is reached only through the `httpx.Client` given to `sync` / `report` (see `_sync` and
`_report`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tracewarn.device import _sync
from tracewarn.device._report import build_submission, fake_submission
from tracewarn.device._sync import SyncReport
from tracewarn.device.backend import Backend
from tracewarn.device.clock import Clock, Randomness, SystemClock, SystemRandomness
from tracewarn.device.store import DeviceStore, Observation, StoredCheckIn, day_number
from tracewarn.protocol.gaen.keys import (
    EKROLLING_PERIOD,
    KEY_LENGTH,
    BluetoothMetadata,
    TemporaryExposureKey,
    aem_key,
    en_interval_number,
    encrypt_metadata,
    rolling_proximity_identifiers,
)
from tracewarn.protocol.presence.checkin import check_in as presence_check_in
from tracewarn.protocol.presence.qr import parse_qr_url, require_supported_version
from tracewarn.protocol.presence.risk_vector import SymptomAnswer
from tracewarn.protocol.proto import submission_pb2
from tracewarn.protocol.risk import CWA_1_15, RiskCalculationConfig

__all__ = ["POSITIVE_RESULTS", "DeviceConfig", "ReportRefused", "VirtualDevice"]

POSITIVE_RESULTS = (2, 7)  # CWA result codes PCR_POSITIVE, RAT_POSITIVE
# Wait before each request of a report, real or fake: uniform in this range (seconds), drawn
# from the device's randomness. Real and fake reports then have the same gaps, so the timing of
# the four requests cannot tell them apart (docs/privacy.md, "Fake uploads").
STEP_WAIT_SECONDS = (0.5, 2.5)


def _wall_sleep(seconds: float) -> None:
    time.sleep(seconds)


class ReportRefused(Exception):  # noqa: N818 - reads as what happened
    """The device will not upload: the test behind the code is not positive."""


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """Settings of one device (kept in its store so the CLI can reopen it)."""

    region: str = "DE"
    # Calibrated TX power advertised in the metadata; attenuation = tx_power - RSSI.
    tx_power: int = -10
    calibration_confidence: int = 3

    def metadata(self) -> bytes:
        return BluetoothMetadata(1, 0, self.calibration_confidence, self.tx_power).to_bytes()


class VirtualDevice:
    """One phone running the app. Build with `VirtualDevice.open(directory)` or from a store."""

    def __init__(
        self,
        store: DeviceStore,
        *,
        clock: Clock,
        randomness: Randomness,
        config: DeviceConfig | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.randomness = randomness
        # How the device waits between report steps: the given function, else the clock's own
        # `sleep` (a ManualClock just advances, so simulations and tests never really sleep),
        # else the wall clock.
        self._sleep: Callable[[float], None] = sleep or getattr(clock, "sleep", None) or _wall_sleep
        saved = store.get_meta("config")
        if config is None:
            config = DeviceConfig(**saved) if saved else DeviceConfig()
        if saved != _config_json(config):
            store.set_meta("config", _config_json(config))
        self.config = config
        self._advert_cache: dict[int, list[tuple[bytes, bytes]]] = {}

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        clock: Clock | None = None,
        randomness: Randomness | None = None,
        config: DeviceConfig | None = None,
        durable: bool = True,
    ) -> VirtualDevice:
        clock = clock or SystemClock()
        randomness = randomness or SystemRandomness()
        store = DeviceStore.open(directory, clock=clock, randomness=randomness, durable=durable)
        return cls(store, clock=clock, randomness=randomness, config=config)

    def close(self) -> None:
        self.store.close()

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    # -- own keys and advertisements ------------------------------------------------------------

    def tek_for_day(self, day: int) -> TemporaryExposureKey:
        """The key of a UTC day, created from fresh random bytes the first time it is needed."""
        tek = self.store.tek_for_day(day)
        if tek is None:
            tek = TemporaryExposureKey(
                self.randomness.token_bytes(KEY_LENGTH), day * EKROLLING_PERIOD, EKROLLING_PERIOD
            )
            self.store.put_tek(tek)
        return tek

    def current_tek(self) -> TemporaryExposureKey:
        """Today's key: a new one starts at every UTC midnight (GAEN key schedule)."""
        return self.tek_for_day(day_number(self.clock.now()))

    def day_advertisements(self, day: int) -> list[tuple[bytes, bytes]]:
        """(RPI, AEM) for each of the day's 144 intervals, derived in one AES call."""
        cached = self._advert_cache.get(day)
        if cached is None:
            tek = self.tek_for_day(day)
            aemk, metadata = aem_key(tek.key_data), self.config.metadata()
            rpis = rolling_proximity_identifiers(tek.key_data, tek.rolling_start_interval_number)
            cached = [(rpi, encrypt_metadata(aemk, rpi, metadata)) for rpi in rpis]
            self._advert_cache = {day: cached}
        return cached

    def advertisement(self, moment: dt.datetime | None = None) -> tuple[bytes, bytes]:
        """The (RPI, AEM) this device broadcasts at `moment` (default: now)."""
        interval = en_interval_number(moment or self.clock.now())
        return self.day_advertisements(interval // EKROLLING_PERIOD)[interval % EKROLLING_PERIOD]

    # -- what it hears --------------------------------------------------------------------------

    def observe(self, rpi: bytes, aem: bytes, rssi: int, time: int | None = None) -> None:
        """Record one received advertisement (default time: now)."""
        self.observe_many([Observation(rpi, aem, self.now() if time is None else time, rssi)])

    def observe_many(self, observations: Iterable[Observation]) -> int:
        checked = []
        for obs in observations:
            if len(obs.rpi) != KEY_LENGTH or len(obs.aem) != 4:
                raise ValueError("an observation has a 16-byte RPI and a 4-byte AEM")
            checked.append(obs)
        return self.store.add_observations(checked)

    # -- check-ins ------------------------------------------------------------------------------

    def check_in(
        self, qr_url: str, *, start: int | None = None, end: int | None = None
    ) -> StoredCheckIn:
        """Scan a QR code (validated as CWA event registration [docs/specifications.md#cwa-events]) and store the stay; end defaults as CWA does."""
        scanned = require_supported_version(parse_qr_url(qr_url))
        begin = self.now() if start is None else start
        planned = presence_check_in(scanned.payload, begin)
        finish = planned.end if end is None else end
        if finish < begin:
            raise ValueError("a check-in cannot end before it starts")
        row = self.store.add_check_in(qr_url, planned.location_id, begin, finish)
        return StoredCheckIn(row, qr_url, planned.location_id, begin, finish)

    # -- talking to the backend -----------------------------------------------------------------

    def sync(self, client: httpx.Client, *, config: RiskCalculationConfig = CWA_1_15) -> SyncReport:
        """Download what is new, verify, match, score and notify (see `device._sync`)."""
        return _sync.sync(
            self.store, Backend(client), now=self.now(), region=self.config.region, config=config
        )

    def report(
        self,
        client: httpx.Client,
        *,
        guid: str | None = None,
        teletan: str | None = None,
        answer: SymptomAnswer = SymptomAnswer.NO_INFORMATION,
        onset: dt.date | None = None,
        consent_to_federation: bool = False,
    ) -> dict[str, Any]:
        """Upload keys and check-ins after a positive test (CWA verification + submission).

        `guid` is the code from the lab (its SHA-256 registers the test; the test result must
        be positive); a `teletan` from the hotline needs no result check. `answer` and `onset`
        are the symptom questions: they set each key's days since onset and each check-in's TRL.
        `consent_to_federation`: the keys may also go to other regions (docs/federation.md).
        """
        if (guid is None) == (teletan is None):
            raise ValueError("report needs exactly one of a lab code (guid) or a teleTAN")
        backend = Backend(client)
        self._wait()
        # A TAN whose upload failed (network, server) is kept and used again: the code that
        # produced it cannot be registered a second time.
        tan = self.store.get_meta("pending_tan")
        if tan is None:
            tan = self._tan(backend, guid, teletan)
            self.store.set_meta("pending_tan", tan)
        if onset is not None and answer is SymptomAnswer.NO_INFORMATION:
            answer = SymptomAnswer.ONSET_DATE
        stored = [c for c in self.store.check_ins() if not c.submitted]
        check_ins = [_sync.check_in_of(c) for c in stored]
        onset_day = None if onset is None else (onset - dt.date(1970, 1, 1)).days
        self.current_tek()  # today's key exists, so it is uploaded too
        payload = build_submission(
            self.store.teks(),
            check_ins,
            now=self.now(),
            answer=answer,
            onset_day=onset_day,
            region=self.config.region,
            random_bytes=self.randomness.token_bytes,
            consent_to_federation=consent_to_federation,
        )
        self._wait()
        backend.submit(tan, payload)
        self.store.set_meta("pending_tan", None)
        self.store.mark_submitted(c.id for c in stored)
        sent = submission_pb2.SubmissionPayload.FromString(payload)
        hours = sorted(_release_hour(k.rolling_start_interval_number, k.rolling_period, self.now())
                       for k in sent.keys)  # fmt: skip
        summary = {
            "reported_at": self.now(),
            "keys": len(sent.keys),
            # When the backend may publish them: an hour's package is cut once the hour is over.
            "first_keys_published_after": _iso((hours[0] + 1) * 3600) if hours else None,
            "last_key_published_after": _iso((hours[-1] + 1) * 3600) if hours else None,
            "check_ins": len(stored),
            "check_in_reports": len(sent.checkInProtectedReports),
        }
        self.store.set_meta("reported", summary)
        return summary

    def _tan(self, backend: Backend, guid: str | None, teletan: str | None) -> str:
        # Four requests in a fixed order with a random wait before each, whatever the code: a
        # teleTAN registration polls its (positive) result too, so every report, real or fake,
        # has the same shape on the wire.
        if guid is not None:
            token = backend.registration_token("GUID", hashlib.sha256(guid.encode()).hexdigest())
        else:
            token = backend.registration_token("TELETAN", str(teletan))
        self._wait()
        result = backend.test_result(token)
        if guid is not None and result not in POSITIVE_RESULTS:
            raise ReportRefused(f"the test result is not positive (result code {result})")
        self._wait()
        return backend.tan(token)

    def fake_report(self, client: httpx.Client) -> None:
        """The same four requests as `report`, in the same order, with the same random waits
        and body sizes, marked `cwa-fake: 1` (CWA server [docs/specifications.md#cwa-server]; DP-3T operational security, dummy
        uploads)."""
        backend = Backend(client)
        self._wait()
        token = backend.registration_token("GUID", self.randomness.token_bytes(32).hex(), fake=True)
        self._wait()
        backend.test_result(token, fake=True)
        self._wait()
        tan = backend.tan(token, fake=True)
        body = fake_submission(self.randomness.token_bytes)  # built where `report` builds its own
        self._wait()
        backend.submit(tan, body, fake=True)

    def _wait(self) -> None:
        low, high = STEP_WAIT_SECONDS
        draw = int.from_bytes(self.randomness.token_bytes(4), "big") / 2**32
        self._sleep(low + (high - low) * draw)

    def maybe_fake_report(self, client: httpx.Client, probability: float) -> bool:
        """Send a fake report with `probability` (drawn from the device's randomness)."""
        draw = int.from_bytes(self.randomness.token_bytes(4), "big") / 2**32
        if draw >= probability:
            return False
        self.fake_report(client)
        return True

    # -- status ---------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What the app's home screen shows, plus counts of what the store holds."""
        notifications = self.store.notifications()
        return {
            "now": self.clock.now().isoformat(),
            "region": self.config.region,
            "keys": len(self.store.teks()),
            "observations": len(self.store.observation_records()),  # no object per sighting
            "check_ins": len(self.store.check_ins()),
            "last_sync": _iso((self.store.get_meta("sync") or {}).get("last_sync")),
            "notifications": notifications,
            "risk": notifications[-1] if notifications else None,
        }


def _iso(unix: int | None) -> str | None:
    return None if unix is None else dt.datetime.fromtimestamp(unix, tz=dt.UTC).isoformat()


def _config_json(config: DeviceConfig) -> dict[str, Any]:
    return {
        "region": config.region,
        "tx_power": config.tx_power,
        "calibration_confidence": config.calibration_confidence,
    }


# The backend's expiry policy (CWA: a key is published no earlier than 120 minutes after it
# expired; `TRACEWARN_EXPIRY_POLICY_MINUTES` on our server), as the phone assumes it.
_EXPIRY_POLICY_SECONDS = 120 * 60


def _release_hour(rolling_start: int, rolling_period: int, now: int) -> int:
    """The hour (since the epoch) whose package may first carry this key, as the server rules."""
    release = (rolling_start + rolling_period) * 600 + _EXPIRY_POLICY_SECONDS
    return max(now // 3600, -(-release // 3600))
