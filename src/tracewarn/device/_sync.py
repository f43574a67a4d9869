"""`sync`: fetch what is new, verify it, match on the device, score, and notify.

Theory of operation (CWA event registration [docs/specifications.md#cwa-events]; GAEN Cryptography Specification v1.2 [docs/specifications.md#gaen-crypto]). The device pins its region's public signing
keys the first time it talks to the backend (the key a real app would ship with) and accepts a
package only if one of its signatures verifies with a pinned key. It remembers which packages it
has downloaded, so each sync fetches only what is new: the daily package of a day it has nothing
of, else the missing hours of that day, and the trace warning hours after the last one it saw.
Matching and scoring happen here, on the device: downloaded keys are matched against the
device's own observations (`tracewarn.protocol.matching`), the resulting exposure windows are
kept (encrypted) for 14 days, and proximity risk (CWA v2) and check-in risk (CWA event registration [docs/specifications.md#cwa-events]) are
combined (CWA risk calculation v2 [docs/specifications.md#cwa-risk]). Nothing about the result is ever sent anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.asymmetric import ec

from tracewarn.device._warning import FAILED_ADVICE, advice_for, explanation_for
from tracewarn.device.backend import Backend, BackendError
from tracewarn.device.store import RETENTION_DAYS, DeviceStore, StoredCheckIn
from tracewarn.protocol.exposure_window import ExposureWindow
from tracewarn.protocol.gaen import (
    ExportFile,
    ZipLimits,
    load_public_key,
    verify_export,
    verify_signed_zip,
)
from tracewarn.protocol.matching import KeyDayMatch, ObservationStore, match_exports
from tracewarn.protocol.presence import (
    CheckIn,
    ProtectedReport,
    check_in_risk,
    decode_qr_payload,
    decode_trace_warning_package,
    location_id_hash,
    parse_qr_url,
    presence_risk_parameters_for,
)
from tracewarn.protocol.risk import (
    CWA_1_15,
    CombinedRisk,
    RiskCalculationConfig,
    RiskLevelScale,
    RiskResult,
    exposure_window_from_json,
    exposure_window_to_json,
    score_exposure_windows,
)

__all__ = ["SCAN_PERIOD_SECONDS", "Notification", "SyncReport", "sync"]

# The device scans every 5 minutes (GAEN: every 3.5-5 min), so each sighting stands for 300 s.
SCAN_PERIOD_SECONDS = 300
_KEYS = "/version/v1/diagnosis-keys/country"
_TWP = "/version/v2/twp/country"
# An hour of trace warnings is small; refuse packages inflating past 16 MiB.
_TWP_LIMITS = ZipLimits(max_bin_size=16 * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class Notification:
    """What the user is told: the level, the (UTC) day of the encounter, why, and what to do."""

    level: str
    date: str | None
    source: str
    advice: str
    explanation: str
    raised_at: int
    # The two inputs of the combined level, so the user (and the demo) can see why.
    proximity_level: str = "none"
    check_in_level: str = "none"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SyncReport:
    key_packages: int
    warning_packages: int
    keys: int
    warning_reports: int
    new_windows: int
    notification: Notification
    raised: bool


def sync(
    store: DeviceStore,
    backend: Backend,
    *,
    now: int,
    region: str,
    config: RiskCalculationConfig = CWA_1_15,
) -> SyncReport:
    """One sync of the device behind `store` (see the module docstring).

    Both risks are scored on `config`'s level scale: check-in risk with the shipped check-in
    parameters on that scale, so a scale without them fails here, before anything is fetched.
    """
    presence_params = presence_risk_parameters_for(config.scale)
    today = dt.datetime.fromtimestamp(now, tz=dt.UTC).date()
    state = store.get_meta("sync") or {"packages": [], "twp_latest": None}
    keys = _pinned_keys(store, backend, region)

    exports, fetched = _new_key_exports(backend, region, today, set(state["packages"]), keys)
    matches: tuple[KeyDayMatch, ...] = ()
    key_count = 0
    if exports:
        records = store.observation_records()
        observations = ObservationStore.from_arrays(
            records["rpi"].tobytes(),
            records["aem"].tobytes(),
            records["time"],
            records["rssi"],
            seconds_since_last_scan=np.full(len(records), SCAN_PERIOD_SECONDS),
        )
        # match_exports counts a key in several packages once and applies revised keys.
        result = match_exports(exports, observations, now=now)
        matches, key_count = result.matches, result.stats.keys
    windows, new_windows = _remember_windows(store, matches, today)

    check_ins = stored_check_ins(store)
    hashes = {location_id_hash(c.location_id) for c in check_ins}
    reports, twp_count, twp_latest = _new_warnings(backend, region, state["twp_latest"], keys)
    kept = _remember_reports(store, [r for r in reports if r.location_id_hash in hashes], now)

    exposure = score_exposure_windows(windows, config)
    presence = check_in_risk(check_ins, kept, now, presence_params)
    combined = CombinedRisk.of(exposure, presence.total, presence.per_day, scale=config.scale)
    notification = _notification(exposure, presence.per_day, combined, today, now)

    store.set_meta(
        "sync",
        {
            "packages": sorted(set(state["packages"]) | set(fetched)),
            "twp_latest": twp_latest,
            "last_sync": now,
        },
    )
    last = store.get_meta("risk")
    raised = notification.level not in ("none", "failed") and (
        last is None or (last["level"], last["date"]) != (notification.level, notification.date)
    )
    if raised:
        store.add_notification(now // 86400, notification.to_json())
    store.set_meta("risk", notification.to_json())
    return SyncReport(
        key_packages=len(fetched),
        warning_packages=twp_count,
        keys=key_count,
        warning_reports=len(reports),
        new_windows=len(new_windows),
        notification=notification,
        raised=raised,
    )


def _pinned_keys(
    store: DeviceStore, backend: Backend, region: str
) -> dict[str | tuple[str, str], ec.EllipticCurvePublicKey]:
    pinned = store.get_meta("signing_keys")
    if pinned is None:
        document = backend.get_json("/version/v1/signing-keys")
        pinned = [
            {"keyId": k["keyId"], "keyVersion": k["keyVersion"], "pem": k["publicKeyPem"]}
            for k in document.get("keys", [])
            if k.get("region") == region and not k.get("retiredAt")
        ]
        if not pinned:
            raise BackendError(f"the backend publishes no signing key for region {region}")
        store.set_meta("signing_keys", pinned)
    keys: dict[str | tuple[str, str], ec.EllipticCurvePublicKey] = {
        (k["keyId"], k["keyVersion"]): load_public_key(k["pem"].encode()) for k in pinned
    }
    return keys


def pin_signing_keys(store: DeviceStore, client: Any, region: str) -> list[dict[str, str]]:
    """Fetch and pin the region's keys now (what `tracewarn device init` does); returns them."""
    store.set_meta("signing_keys", None)
    _pinned_keys(store, Backend(client), region)
    pinned: list[dict[str, str]] = store.get_meta("signing_keys")
    return [{"keyId": k["keyId"], "keyVersion": k["keyVersion"]} for k in pinned]


def _get_json_or_none(backend: Backend, path: str) -> Any:
    try:
        return backend.get_json(path)
    except BackendError as exc:
        if exc.status == 404:  # nothing published yet
            return None
        raise


def _new_key_exports(
    backend: Backend,
    region: str,
    today: dt.date,
    downloaded: set[str],
    keys: Mapping[str | tuple[str, str], ec.EllipticCurvePublicKey],
) -> tuple[list[ExportFile], list[str]]:
    oldest = today - dt.timedelta(days=RETENTION_DAYS - 1)
    dates = set(_get_json_or_none(backend, f"{_KEYS}/{region}/date") or [])
    recent = {
        (today - dt.timedelta(days=k)).isoformat() for k in range(2)
    } - dates  # days not complete yet: only their hours exist
    wanted: list[str] = []
    for day in sorted(dates | recent):
        if dt.date.fromisoformat(day) < oldest:
            continue
        daily = f"{_KEYS}/{region}/date/{day}"
        if daily in downloaded:
            continue
        hour_prefix = f"{daily}/hour/"
        have_hours = any(p.startswith(hour_prefix) for p in downloaded)
        if day in dates and not have_hours:
            wanted.append(daily)
            continue
        for hour in _get_json_or_none(backend, f"{daily}/hour") or []:
            path = f"{hour_prefix}{int(hour)}"
            if path not in downloaded:
                wanted.append(path)
    return [verify_export(backend.get(path), keys).export for path in wanted], wanted


def _new_warnings(
    backend: Backend,
    region: str,
    latest_seen: int | None,
    keys: Mapping[str | tuple[str, str], ec.EllipticCurvePublicKey],
) -> tuple[list[ProtectedReport], int, int | None]:
    index = _get_json_or_none(backend, f"{_TWP}/{region}/hour")
    if not index or index.get("latest") is None:
        return [], 0, latest_seen
    first = (
        int(index["oldest"]) if latest_seen is None else max(int(index["oldest"]), latest_seen + 1)
    )
    last = int(index["latest"])
    reports: list[ProtectedReport] = []
    for hour in range(first, last + 1):
        package = decode_trace_warning_package(
            verify_signed_zip(backend.get(f"{_TWP}/{region}/hour/{hour}"), keys, limits=_TWP_LIMITS)
        )
        reports.extend(package.reports)
    return reports, max(0, last - first + 1), max(last, latest_seen or last)


def _remember_windows(
    store: DeviceStore, matches: tuple[KeyDayMatch, ...], today: dt.date
) -> tuple[list[ExposureWindow], list[ExposureWindow]]:
    """All kept windows and the new ones, with each key counted once across syncs.

    Beside the saved windows the device keeps, in the same order, the key each came from
    (key data + rolling start, hex; on the device only, like everything in its store). A key
    matched again in a later sync (published again, or revised) replaces its earlier windows
    instead of adding to them.
    """
    oldest = today - dt.timedelta(days=RETENTION_DAYS - 1)
    saved = store.get_meta("exposure_windows") or []
    saved_keys = store.get_meta("exposure_window_keys") or []
    saved_keys = saved_keys + [None] * (len(saved) - len(saved_keys))  # stores from before
    fresh = [(_key_id(m), w) for m in matches for w in m.exposure_windows() if w.date >= oldest]
    replaced = {key for key, _ in fresh}
    kept = [
        (key, exposure_window_from_json(entry, today=today))
        for key, entry in zip(saved_keys, saved, strict=True)
        if key is None or key not in replaced
    ]
    entries = [(key, w) for key, w in kept if w.date >= oldest] + fresh
    if fresh or len(entries) != len(saved):
        store.set_meta("exposure_windows", [_window_json(w, today) for _, w in entries])
        store.set_meta("exposure_window_keys", [key for key, _ in entries])
    return [w for _, w in entries], [w for _, w in fresh]


def _key_id(match: KeyDayMatch) -> str:
    return f"{match.key_data.hex()}:{match.rolling_start_interval_number}"


def _window_json(window: ExposureWindow, today: dt.date) -> dict[str, Any]:
    data = exposure_window_to_json(window, today=today)
    del data["ageInDays"]
    data["date"] = window.date.isoformat()
    return data


def _remember_reports(
    store: DeviceStore, new: list[ProtectedReport], now: int
) -> list[ProtectedReport]:
    # Only reports about places this device checked in at are kept; they are tiny.
    saved = store.get_meta("warnings") or []
    horizon = now - RETENTION_DAYS * 86400
    entries = [e for e in saved if e["received"] >= horizon]
    entries += [{"report": r.to_bytes().hex(), "received": now} for r in new]
    if new or len(entries) != len(saved):
        store.set_meta("warnings", entries)
    return [ProtectedReport.from_bytes(bytes.fromhex(e["report"])) for e in entries]


def stored_check_ins(store: DeviceStore) -> list[CheckIn]:
    return [check_in_of(stored) for stored in store.check_ins()]


def check_in_of(stored: StoredCheckIn) -> CheckIn:
    """The protocol's `CheckIn` of a stored one (its location decoded from the kept QR URL)."""
    return CheckIn(
        location_id=stored.location_id,
        location=decode_qr_payload(parse_qr_url(stored.qr_url).payload),
        start=stored.start,
        end=stored.end,
        completed=True,
        submitted=stored.submitted,
    )


def _level_name(level: int | None, scale: RiskLevelScale) -> str:
    return "none" if level is None else scale.name(level).lower()


def _notification(
    exposure: RiskResult,
    presence_days: Mapping[dt.date, int],
    combined: CombinedRisk,
    today: dt.date,
    now: int,
) -> Notification:
    """The warning; its level, advice and explanation all come from `_warning` (one story)."""
    scale = combined.scale
    proximity_days = exposure.day_levels_by_date()
    check_in_top = max(presence_days.values(), default=None)
    parts = {
        "proximity_level": _level_name(max(proximity_days.values(), default=None), scale),
        "check_in_level": _level_name(check_in_top, scale),
    }
    if combined.failed:
        return Notification("failed", None, "", FAILED_ADVICE, "", now, **parts)
    level = int(combined.level)  # type: ignore[arg-type]
    # CWA's LOW is also "no risk": it is a warning only when some day actually had a level.
    if not (proximity_days or presence_days) or _level_name(level, scale) == "none":
        # The risk module words CWA's lowest level as "low"; with no rated day it means "none"
        # (and a scale whose lowest level is called "none" warns of nothing there either).
        explanation = "\n".join(exposure.explain(today).splitlines()[1:])
        return Notification(
            "none", None, "", advice_for(None, "", scale), explanation, now, **parts
        )
    dates = [d for d, lvl in combined.day_levels.items() if lvl == level]
    date = max(dates) if dates else None
    sources = []
    if date is None or proximity_days.get(date) == level:
        sources.append("proximity")
    if date is not None and presence_days.get(date) == level:
        sources.append("check-in")
    source = "+".join(sources)
    return Notification(
        _level_name(level, scale),
        None if date is None else date.isoformat(),
        source,
        advice_for(level, source, scale),
        explanation_for(level, source, date, scale, exposure, check_in_top, today),
        now,
        **parts,
    )
