"""What matching returns: per matched key and UTC day, the sightings and the key's metadata.

`KeyDayMatch` is the rich record (it names the key, so it stays on the device); its
`exposure_windows()` turn it into the unlinkable `ExposureWindow`s risk scoring consumes. A
window groups the sightings of one device (one key) on one UTC day that fall within 30 minutes
of the window's first sighting; a longer encounter becomes several consecutive windows, as the
ENF exposure-window API does (ENF exposure windows [docs/specifications.md#enf-windows]).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tracewarn.protocol.exposure_window import (
    ExposureWindow,
    Infectiousness,
    ReportType,
    ScanInstance,
)

__all__ = ["KeyDayMatch", "MatchResult", "MatchStats", "Sighting"]

WINDOW_SECONDS = 1800


@dataclass(frozen=True, slots=True)
class Sighting:
    """One matched scan: when (unix seconds), the RPI's interval, and the decoded signal."""

    time: int
    interval: int
    rpi: bytes
    aem: bytes
    tx_power: int
    calibration_confidence: int
    min_attenuation: int
    typical_attenuation: int
    seconds_since_last_scan: int

    def scan_instance(self) -> ScanInstance:
        return ScanInstance(
            min_attenuation=self.min_attenuation,
            typical_attenuation=self.typical_attenuation,
            seconds_since_last_scan=self.seconds_since_last_scan,
        )


@dataclass(frozen=True, slots=True)
class KeyDayMatch:
    """The sightings (time order) of one diagnosis key on one UTC day, with the key's metadata.

    `report_type` and `infectiousness` are the values after the matching configuration's
    defaults were applied; the raw export fields are kept as `None` when they were absent.
    `observer` is the store's observer number of the sightings (0 on a real device).
    """

    observer: int
    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int
    date: dt.date
    report_type: ReportType
    infectiousness: Infectiousness
    transmission_risk_level: int | None
    days_since_onset_of_symptoms: int | None
    sightings: tuple[Sighting, ...]

    @property
    def calibration_confidence(self) -> int:
        # Sightings of one key normally agree; if not, the least confident one is the honest value.
        return min(s.calibration_confidence for s in self.sightings)

    def scan_instances(self) -> tuple[ScanInstance, ...]:
        return tuple(s.scan_instance() for s in self.sightings)

    def exposure_windows(self, window_seconds: int = WINDOW_SECONDS) -> tuple[ExposureWindow, ...]:
        """This key-day's sightings cut into windows spanning less than `window_seconds` each."""
        groups: list[list[Sighting]] = []
        first = 0
        for sighting in self.sightings:
            if not groups or sighting.time - first >= window_seconds:
                groups.append([])
                first = sighting.time
            groups[-1].append(sighting)
        return tuple(
            ExposureWindow(
                date=self.date,
                report_type=int(self.report_type),
                infectiousness=int(self.infectiousness),
                calibration_confidence=min(s.calibration_confidence for s in group),
                scan_instances=tuple(s.scan_instance() for s in group),
            )
            for group in groups
        )

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (key and RPIs hex, times unix seconds); for the CLI and tools."""
        return {
            "observer": self.observer,
            "key_data": self.key_data.hex(),
            "rolling_start_interval_number": self.rolling_start_interval_number,
            "rolling_period": self.rolling_period,
            "date": self.date.isoformat(),
            "report_type": self.report_type.name,
            "infectiousness": self.infectiousness.name,
            "transmission_risk_level": self.transmission_risk_level,
            "days_since_onset_of_symptoms": self.days_since_onset_of_symptoms,
            "sightings": [
                {
                    "time": s.time,
                    "interval": s.interval,
                    "rpi": s.rpi.hex(),
                    "aem": s.aem.hex(),
                    "tx_power": s.tx_power,
                    "calibration_confidence": s.calibration_confidence,
                    "min_attenuation": s.min_attenuation,
                    "typical_attenuation": s.typical_attenuation,
                    "seconds_since_last_scan": s.seconds_since_last_scan,
                }
                for s in self.sightings
            ],
        }


@dataclass(frozen=True, slots=True)
class MatchStats:
    """Counters of one matching run (no timings: those belong to the caller)."""

    keys: int = 0
    keys_outside_retention: int = 0
    keys_revoked: int = 0
    keys_without_infectiousness: int = 0
    keys_without_nearby_sightings: int = 0
    keys_derived: int = 0
    candidates: int = 0
    matched_keys: int = 0
    matched_sightings: int = 0
    # Copies of a key already seen in an earlier export of the same run (dedup.KeySet).
    keys_duplicate: int = 0

    def __add__(self, other: MatchStats) -> MatchStats:
        return MatchStats(*(a + b for a, b in zip(_astuple(self), _astuple(other), strict=True)))


def _astuple(stats: MatchStats) -> tuple[int, ...]:
    return tuple(getattr(stats, name) for name in MatchStats.__slots__)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """All key-day matches, ordered by key (input order) then date, and the run's counters."""

    matches: tuple[KeyDayMatch, ...]
    stats: MatchStats = field(default_factory=MatchStats)

    def exposure_windows(
        self, window_seconds: int = WINDOW_SECONDS, *, observer: int | None = None
    ) -> list[ExposureWindow]:
        """Every match's windows (of one `observer` if given), sorted by date and content, so no
        order links them to a key."""
        windows = [
            w
            for m in self.matches
            if observer is None or m.observer == observer
            for w in m.exposure_windows(window_seconds)
        ]
        windows.sort(key=_window_order)
        return windows

    def windows_by_observer(
        self, window_seconds: int = WINDOW_SECONDS
    ) -> dict[int, list[ExposureWindow]]:
        """Each observer's windows (as `exposure_windows(observer=...)`), for a simulator."""
        return {
            observer: self.exposure_windows(window_seconds, observer=observer)
            for observer in sorted({m.observer for m in self.matches})
        }


def _window_order(w: ExposureWindow) -> tuple[object, ...]:
    scans = tuple(
        (s.min_attenuation, s.typical_attenuation, s.seconds_since_last_scan)
        for s in w.scan_instances
    )
    return (w.date, w.report_type, w.infectiousness, w.calibration_confidence, scans)
