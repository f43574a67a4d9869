"""Exposure windows in the JSON shape of CWA's test cases (`testCases[].exposureWindows`, CWA risk calculation v2 [docs/specifications.md#cwa-risk]).

A window gives its day as `ageInDays` (days before "today"), so the caller passes `today`; this
module never reads a clock. `dateMillisSinceEpoch` (ENF's own field, UTC midnight) or an ISO
`date` are accepted instead of `ageInDays`. Values are range-checked as ENF defines them (ENF exposure windows [docs/specifications.md#enf-windows]).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from tracewarn.protocol.errors import RiskInputError
from tracewarn.protocol.exposure_window import ExposureWindow, ScanInstance

__all__ = ["exposure_window_from_json", "exposure_window_to_json", "exposure_windows_from_json"]

_WINDOW_KEYS = {
    "ageInDays",
    "dateMillisSinceEpoch",
    "date",
    "reportType",
    "infectiousness",
    "calibrationConfidence",
    "scanInstances",
}
_SCAN_KEYS = {"minAttenuation", "typicalAttenuation", "secondsSinceLastScan"}
_DAY_MILLIS = 86_400_000
# ENF reports at most 14 days; anything far outside is a broken file, not an old encounter.
_MAX_AGE_DAYS = 3650
_MAX_SECONDS = 86_400


def exposure_windows_from_json(obj: Any, *, today: dt.date) -> tuple[ExposureWindow, ...]:
    """Parse a JSON list of windows (or an object with `exposureWindows`)."""
    if isinstance(obj, Mapping) and "exposureWindows" in obj:
        obj = obj["exposureWindows"]
    if not isinstance(obj, list):
        raise RiskInputError("expected a JSON list of exposure windows")
    return tuple(
        exposure_window_from_json(item, today=today, where=f"exposureWindows[{i}]")
        for i, item in enumerate(obj)
    )


def exposure_window_from_json(
    obj: Any, *, today: dt.date, where: str = "exposure window"
) -> ExposureWindow:
    """Parse one window; exactly one of `ageInDays`, `dateMillisSinceEpoch`, `date` is required."""
    if not isinstance(obj, Mapping):
        raise RiskInputError(f"{where}: expected an object")
    unknown = sorted(set(obj) - _WINDOW_KEYS)
    if unknown:
        raise RiskInputError(f"{where}: unknown keys {unknown}")
    scans = obj.get("scanInstances")
    if not isinstance(scans, list):
        raise RiskInputError(f"{where}: scanInstances must be a list")
    return ExposureWindow(
        date=_date(obj, today, where),
        report_type=_int(obj, "reportType", where, 0, 5),
        infectiousness=_int(obj, "infectiousness", where, 0, 2),
        calibration_confidence=_int(obj, "calibrationConfidence", where, 0, 3),
        scan_instances=tuple(_scan(s, f"{where}.scanInstances[{i}]") for i, s in enumerate(scans)),
    )


def exposure_window_to_json(window: ExposureWindow, *, today: dt.date) -> dict[str, Any]:
    """The test-case JSON form, with `ageInDays` counted back from `today`."""
    return {
        "ageInDays": (today - window.date).days,
        "reportType": window.report_type,
        "infectiousness": window.infectiousness,
        "calibrationConfidence": window.calibration_confidence,
        "scanInstances": [
            {
                "minAttenuation": s.min_attenuation,
                "typicalAttenuation": s.typical_attenuation,
                "secondsSinceLastScan": s.seconds_since_last_scan,
            }
            for s in window.scan_instances
        ],
    }


def _date(obj: Mapping[str, Any], today: dt.date, where: str) -> dt.date:
    given = [key for key in ("ageInDays", "dateMillisSinceEpoch", "date") if key in obj]
    if len(given) != 1:
        raise RiskInputError(
            f"{where}: give exactly one of ageInDays, dateMillisSinceEpoch, date (got {given})"
        )
    if given == ["ageInDays"]:
        return today - dt.timedelta(days=_int(obj, "ageInDays", where, 0, _MAX_AGE_DAYS))
    if given == ["date"]:
        value = obj["date"]
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            raise RiskInputError(f"{where}: date must be YYYY-MM-DD, got {value!r}") from None
    millis = _int(obj, "dateMillisSinceEpoch", where, 0, 253_402_300_799_999)
    if millis % _DAY_MILLIS:
        raise RiskInputError(
            f"{where}: dateMillisSinceEpoch must be a UTC midnight (ENF exposure windows [docs/specifications.md#enf-windows])"
        )
    return dt.date(1970, 1, 1) + dt.timedelta(days=millis // _DAY_MILLIS)


def _scan(obj: Any, where: str) -> ScanInstance:
    if not isinstance(obj, Mapping):
        raise RiskInputError(f"{where}: expected an object")
    unknown = sorted(set(obj) - _SCAN_KEYS)
    if unknown:
        raise RiskInputError(f"{where}: unknown keys {unknown}")
    return ScanInstance(
        min_attenuation=_int(obj, "minAttenuation", where, 0, 255),
        typical_attenuation=_int(obj, "typicalAttenuation", where, 0, 255),
        # Negative values occur when the clock jumps (a CWA test case); scoring clamps them.
        seconds_since_last_scan=_int(
            obj, "secondsSinceLastScan", where, -_MAX_SECONDS, _MAX_SECONDS
        ),
    )


def _int(obj: Mapping[str, Any], key: str, where: str, low: int, high: int) -> int:
    if key not in obj:
        raise RiskInputError(f"{where}: missing {key}")
    value = obj[key]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RiskInputError(f"{where}.{key}: expected an integer in {low}..{high}, got {value!r}")
    return value
