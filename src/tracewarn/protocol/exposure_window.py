"""Exposure windows: what matching hands to risk scoring (ENF v2 `ExposureWindow`).

An exposure window groups the sightings of one other device within at most 30 minutes on one
UTC day (ENF exposure windows [docs/specifications.md#enf-windows]). Windows carry no key, no RPI and no time
of day, so two windows cannot be linked to each other or to a person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum

__all__ = ["ExposureWindow", "Infectiousness", "ReportType", "ScanInstance"]


class ReportType(IntEnum):
    """ENF report types, as in the export protobuf."""

    UNKNOWN = 0
    CONFIRMED_TEST = 1
    CONFIRMED_CLINICAL_DIAGNOSIS = 2
    SELF_REPORT = 3
    RECURSIVE = 4
    REVOKED = 5


class Infectiousness(IntEnum):
    """ENF infectiousness, derived on the receiving device from days since onset of symptoms."""

    NONE = 0
    STANDARD = 1
    HIGH = 2


@dataclass(frozen=True, slots=True)
class ScanInstance:
    """One Bluetooth scan that saw the other device (attenuations in dB)."""

    min_attenuation: int
    typical_attenuation: int
    seconds_since_last_scan: int


@dataclass(frozen=True, slots=True)
class ExposureWindow:
    """Sightings of one diagnosis key's device on one UTC day, ready for risk scoring."""

    date: dt.date
    report_type: int
    infectiousness: int
    calibration_confidence: int
    scan_instances: tuple[ScanInstance, ...]
