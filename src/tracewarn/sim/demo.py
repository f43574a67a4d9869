"""The town demo end to end: a week in a small town, one positive test, the right warnings.

Theory of operation. `run_demo` builds the town (`town`), gives every person a phone
(`population`), lives the days (radio -> observations, QR scans -> check-ins, and now and then a
fake upload from any phone), then one person tests positive: the lab registers the result and
gets a one-time code, the person's phone turns it into a TAN and uploads its keys and check-ins,
the server publishes, and every phone syncs and decides its own warning. Finally each phone's
warning is compared with the ground truth (`truth`): precision and recall of the warnings, and
a per-person table of who got which level and why. The server only ever sees what a real
backend sees; the ground truth never leaves this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracewarn.device import ManualClock
from tracewarn.sim._server import DemoBackend
from tracewarn.sim.encounters import Scans
from tracewarn.sim.population import Population
from tracewarn.sim.regions import DemoRegions
from tracewarn.sim.streams import stream
from tracewarn.sim.town import Setting, Town, TownConfig, build_town
from tracewarn.sim.truth import GroundTruth, ground_truth

__all__ = ["DemoConfig", "Progress", "choose_case", "demo_clock", "run_demo"]

Progress = Callable[[str, int, int], None]
HOUR = 3600


@dataclass(frozen=True, slots=True)
class DemoConfig:
    seed: int = 1
    devices: int = 200
    days: int = 5
    start: dt.date = dt.date(2026, 11, 2)
    # Each phone sends a fake upload on a given day with this probability (CWA's "playbooks").
    fake_report_probability: float = 0.05
    # The case's symptoms began this many days before the end of the simulated days.
    onset_days_before_test: int = 2

    def town(self) -> TownConfig:
        return TownConfig(people=self.devices, days=self.days, start=self.start)


def demo_clock(config: DemoConfig) -> ManualClock:
    """The clock the devices and the demo server share."""
    return ManualClock(dt.datetime.combine(config.start, dt.time(), tzinfo=dt.UTC))


def choose_case(town: Town) -> int:
    """The person who tests positive: someone who commutes, works, and went to the café."""
    cafe = [i for i, p in enumerate(town.places) if p.setting == Setting.CAFE]
    went = set()
    for stays in town.days:
        went.update(stays.person[np.isin(stays.place, cafe)].tolist())
    candidates = [i for i in range(town.people) if town.commuter[i] and i in went]
    candidates = candidates or [i for i in range(town.people) if town.worker[i]]
    candidates = candidates or list(range(town.people))
    return int(candidates[int(stream(town.seed, "case").integers(0, len(candidates)))])


def run_demo(
    config: DemoConfig,
    backend: DemoBackend,
    clock: ManualClock,
    workdir: Path,
    progress: Progress | None = None,
    regions: DemoRegions | None = None,
) -> dict[str, Any]:
    """Run the whole story; returns the JSON-ready summary (deterministic for a seed).

    With `regions` (`sim.regions`), the case shares their keys with the other regions, and one
    exposed commuter of the town lives in another region: their phone syncs only from their
    home region's backend, which got the case's keys through the federation gateway."""
    report = progress or (lambda _stage, _done, _total: None)
    town = build_town(config.town(), config.seed)
    population = Population.create(town, workdir / "phones", clock)
    try:
        scans: list[Scans] = []
        fakes = 0
        fake_rng = stream(config.seed, "fake-uploads")
        for day in range(config.days):
            label = f"day {day + 1}: phones"

            def tick(i: int, label: str = label) -> None:
                report(label, i + 1, town.people)

            scans.append(population.live_day(day, tick))
            senders = np.flatnonzero(fake_rng.random(town.people) < config.fake_report_probability)
            at = fake_rng.integers(7 * HOUR, 22 * HOUR, size=len(senders))
            for person, offset in sorted(
                zip(senders.tolist(), at.tolist(), strict=True), key=lambda x: x[1]
            ):
                clock.set(_moment(town.day_start(day) + offset))
                population.devices[person].fake_report(backend.client)
                fakes += 1

        case = choose_case(town)
        test_day = config.days
        t_test = town.day_start(test_day)
        onset = config.start + dt.timedelta(days=test_day - config.onset_days_before_test)
        clock.set(_moment(t_test + 7 * HOUR))
        response = backend.client.post(
            "/version/v1/lab/results",
            json={"result": "positive"},
            headers={"X-API-Key": backend.lab_key},
        )
        response.raise_for_status()
        code = str(response.json()["code"])
        clock.set(_moment(t_test + 8 * HOUR))
        uploaded = population.devices[case].report(
            backend.client, guid=code, onset=onset, consent_to_federation=regions is not None
        )
        report("report and publish", 1, 2)

        # The hourly job right after the report's hour; keys of yesterday expired at 02:00.
        clock.set(_moment(t_test + 9 * HOUR + 5 * 60))
        published = backend.publish(t_test + 9 * HOUR + 5 * 60)
        report("report and publish", 2, 2)

        truth = ground_truth(town, scans, case)
        commuter = None if regions is None else regions.choose_commuter(town, truth, case)
        clock.set(_moment(t_test + 9 * HOUR + 30 * 60))
        notes: dict[int, dict[str, Any]] = {}
        for i, device in enumerate(population.devices):
            if i not in (case, commuter):
                notes[i] = device.sync(backend.client).notification.to_json()
            report("sync", i + 1, town.people)
        federation: dict[str, Any] | None = None
        if regions is not None:
            federation = _federate(regions, population, commuter, clock, t_test, notes)
        summary = _summary(
            config, town, case, onset, truth, notes, uploaded, fakes, published, scans
        )
        summary["timeline"] = {
            "lab_result": _moment(t_test + 7 * HOUR).isoformat(),
            "report": _moment(t_test + 8 * HOUR).isoformat(),
            "publish": _moment(t_test + 9 * HOUR + 5 * 60).isoformat(),
            "sync": _moment(t_test + 9 * HOUR + 30 * 60).isoformat(),
        }
        if federation is not None:
            summary["regions"] = _regions_summary(federation, commuter, summary)
        return summary
    finally:
        population.close()


def _federate(
    regions: DemoRegions,
    population: Population,
    commuter: int | None,
    clock: ManualClock,
    t_test: int,
    notes: dict[int, dict[str, Any]],
) -> dict[str, Any]:
    if commuter is None:
        # Nobody was exposed: still exchange the keys, and say so.
        from tracewarn.server.federation.jobs import federate

        for code in regions.codes:
            federate(regions.backends[code].app.state.ctx)
        return {"regions": regions.codes, "town_region": regions.town}
    note, out = regions.exchange_and_sync(population.devices[commuter], clock, t_test)
    notes[commuter] = note
    return out


def _regions_summary(
    federation: dict[str, Any], commuter: int | None, summary: dict[str, Any]
) -> dict[str, Any]:
    out = dict(federation)
    if commuter is None:
        out["cross_region_warning"] = None
        return out
    person = next(p for p in summary["people"] if p["person"] == commuter)
    out["cross_region_warning"] = {
        "person": person["label"],
        "home_region": federation["regions"][1],
        "exposed_in": federation["town_region"],
        "case_region": federation["town_region"],
        "synced_from": federation["regions"][1],
        "level": person["level"],
        "date": person["date"],
        "source": person["source"],
        "warned": person["level"] in ("high", "low"),
        "really_exposed": person["truth"]["exposed"],
    }
    return out


def _moment(unix: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC)


def _role(town: Town, person: int) -> str:
    if town.commuter[person]:
        return "commuter"
    return "worker" if town.worker[person] else "at home"


def _summary(
    config: DemoConfig,
    town: Town,
    case: int,
    onset: dt.date,
    truth: GroundTruth,
    notes: dict[int, dict[str, Any]],
    uploaded: dict[str, Any],
    fakes: int,
    published: Any,
    scans: list[Scans],
) -> dict[str, Any]:
    t0 = town.day_start(0)
    people = []
    for person in range(town.people):
        if person == case:
            continue
        note = notes[person]
        contact = truth.contacts.get(person)
        place_minutes: dict[str, int] = {}
        if contact is not None:
            for (day, _place), minutes in contact.place_overlap_minutes.items():
                place_minutes[str(day)] = place_minutes.get(str(day), 0) + minutes
        close = {str(d): m for d, m in (contact.close_minutes if contact else {}).items() if m}
        entry = {
            "person": person,
            "label": f"P{person:03d}",
            "household": f"H{int(town.household[person]):03d}",
            "role": _role(town, person),
            "housemate_of_case": bool(town.household[person] == town.household[case]),
            "level": note["level"],
            "date": note["date"],
            "source": note["source"],
            "proximity_level": note["proximity_level"],
            "check_in_level": note["check_in_level"],
            "truth": {
                "met_case": bool(contact is not None and contact.met),
                "close": bool(contact is not None and contact.close),
                "shared_place": bool(contact is not None and contact.shared_place),
                "same_place_days": sorted(contact.same_place_days) if contact else [],
                "exposed": bool(contact is not None and contact.exposed),
                "close_minutes": close,
                "nearby_minutes": {
                    str(d): m for d, m in (contact.nearby_minutes if contact else {}).items() if m
                },
                "place_minutes": place_minutes,
                "total_close_minutes": sum(close.values()),
                "settings": sorted(contact.settings) if contact else [],
                # Minutes since the start of day 0: [start, end, "close" | "near" | "place"].
                "intervals": sorted(
                    [(a - t0) // 60, (b - t0) // 60, kind]
                    for a, b, kind in (contact.intervals if contact else [])
                ),
            },
        }
        if (
            entry["truth"]["met_case"]
            or entry["truth"]["same_place_days"]
            or note["level"] != "none"
        ):
            people.append(entry)
    everyone = [notes[p] for p in notes]
    exposed = {e["person"] for e in people if e["truth"]["exposed"]}
    high = {e["person"] for e in people if e["level"] == "high"}
    warned = {e["person"] for e in people if e["level"] in ("high", "low")}
    return {
        "seed": config.seed,
        "devices": config.devices,
        "days": config.days,
        "dates": [(config.start + dt.timedelta(days=d)).isoformat() for d in range(config.days)],
        "case": {
            "label": f"P{case:03d}",
            "person": case,
            "role": _role(town, case),
            "symptom_onset": onset.isoformat(),
            "uploaded_keys": uploaded["keys"],
            "uploaded_check_ins": uploaded["check_ins"],
        },
        "levels": {
            name: sum(1 for n in everyone if n["level"] == name)
            for name in ("high", "low", "none", "failed")
        },
        "metrics": {
            "high": _scores(high, exposed),
            "any_warning": _scores(warned, exposed),
        },
        "ground_truth": {
            "exposed": len(exposed),
            "close_contacts": sum(1 for e in people if e["truth"]["close"]),
            "place_contacts": sum(1 for e in people if e["truth"]["shared_place"]),
            "met_case": sum(1 for e in people if e["truth"]["met_case"]),
            "definition": "close: within 2 m for >= 15 min on one day; place: at a check-in "
            "place while the case was there or up to 30 min after",
        },
        "traffic": {
            "fake_uploads": fakes,
            "observations": int(sum(int(s.heard.sum()) for s in scans)),
            "key_packages_published": len(getattr(published, "hourly", []))
            + len(getattr(published, "daily", [])),
            "warning_packages_published": len(getattr(published, "warnings", [])),
        },
        "people": people,
    }


def _scores(predicted: set[int], actual: set[int]) -> dict[str, Any]:
    tp = len(predicted & actual)
    fp = len(predicted - actual)
    fn = len(actual - predicted)
    return {
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": None if tp + fp == 0 else round(tp / (tp + fp), 4),
        "recall": None if tp + fn == 0 else round(tp / (tp + fn), 4),
    }
