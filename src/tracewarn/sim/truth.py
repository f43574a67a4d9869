"""Ground truth about one case: who was really close to them, and who shared a place with them.

The radio model makes attenuations noisy; this module uses the *true* distances and stays, so
warnings raised through the protocol can be scored against what actually happened. A close
contact is the usual public-health definition: within 2 m for at least 15 minutes (summed over
the scans of one day). A place contact was at a check-in place while the case was there or
within 30 minutes after the case left: aerosols linger, which is why CWA extends a positive
person's check-in the same way (CWA event registration [docs/specifications.md#cwa-events]). `same_place_days` records any
visit to the same check-in place on the same day, at whatever time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tracewarn.sim.encounters import SCAN_PERIOD_S, Scans
from tracewarn.sim.town import CHECK_IN_SETTINGS, Setting, Town

__all__ = [
    "AEROSOL_SECONDS",
    "CLOSE_DISTANCE_M",
    "CLOSE_MINUTES",
    "Contact",
    "GroundTruth",
    "ground_truth",
]

CLOSE_DISTANCE_M = 2.0
CLOSE_MINUTES = 15
AEROSOL_SECONDS = 30 * 60


@dataclass(slots=True)
class Contact:
    """What one person really shared with the case, per simulated day."""

    person: int
    close_minutes: dict[int, int] = field(default_factory=dict)
    nearby_minutes: dict[int, int] = field(default_factory=dict)
    settings: set[str] = field(default_factory=set)
    # (day, place index) -> minutes of overlap at a check-in place
    place_overlap_minutes: dict[tuple[int, int], int] = field(default_factory=dict)
    same_place_days: set[int] = field(default_factory=set)
    met: bool = False
    # (start, end, kind) in Unix seconds; kind "close", "near" or "place", for the timeline.
    intervals: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def close(self) -> bool:
        return any(m >= CLOSE_MINUTES for m in self.close_minutes.values())

    @property
    def shared_place(self) -> bool:
        return any(m > 0 for m in self.place_overlap_minutes.values())

    @property
    def exposed(self) -> bool:
        return self.close or self.shared_place


@dataclass(slots=True)
class GroundTruth:
    case: int
    contacts: dict[int, Contact]

    def exposed(self) -> set[int]:
        return {p for p, c in self.contacts.items() if c.exposed}


def ground_truth(town: Town, scans_by_day: list[Scans], case: int) -> GroundTruth:
    contacts: dict[int, Contact] = {}

    def contact(person: int) -> Contact:
        return contacts.setdefault(person, Contact(person))

    minutes_per_scan = SCAN_PERIOD_S // 60
    for day, scans in enumerate(scans_by_day):
        # One direction only (the case advertising) so each pair scan counts once.
        mine = scans.advertiser == case
        others = scans.observer[mine]
        close = scans.distance[mine] <= CLOSE_DISTANCE_M
        for person in np.unique(others):
            sel = others == person
            c = contact(int(person))
            c.met = True
            c.nearby_minutes[day] = int(sel.sum()) * minutes_per_scan
            c.close_minutes[day] = int((sel & close).sum()) * minutes_per_scan
            places = np.unique(scans.place[mine][sel])
            c.settings.update(Setting(town.places[p].setting).name.lower() for p in places)
            times = scans.time[mine][sel]
            c.intervals += _runs(times[~close[sel]], "near") + _runs(times[close[sel]], "close")

        stays = town.days[day]
        is_check_in_place = np.isin(
            np.array([town.places[p].setting for p in stays.place]), CHECK_IN_SETTINGS
        )
        case_stays = np.flatnonzero((stays.person == case) & is_check_in_place)
        for s in case_stays:
            same = np.flatnonzero(
                (stays.place == stays.place[s]) & (stays.person != case) & is_check_in_place
            )
            overlap = np.minimum(stays.end[same], stays.end[s] + AEROSOL_SECONDS) - np.maximum(
                stays.start[same], stays.start[s]
            )
            for j, seconds in zip(same, overlap, strict=True):
                c = contact(int(stays.person[j]))
                c.same_place_days.add(day)
                if seconds > 0:
                    begin = max(int(stays.start[s]), int(stays.start[j]))
                    c.intervals.append((begin, begin + int(seconds), "place"))
                    key = (day, int(stays.place[s]))
                    c.place_overlap_minutes[key] = c.place_overlap_minutes.get(key, 0) + int(
                        seconds // 60
                    )
                    c.settings.add(Setting(town.places[int(stays.place[s])].setting).name.lower())
    return GroundTruth(case, contacts)


def _runs(times: npt.NDArray[np.int64], kind: str) -> list[tuple[int, int, str]]:
    """Merge scan times into intervals: scans one period apart belong to one run."""
    if len(times) == 0:
        return []
    ordered = np.sort(times)
    breaks = np.flatnonzero(np.diff(ordered) > SCAN_PERIOD_S) + 1
    starts = ordered[np.r_[0, breaks]]
    ends = ordered[np.r_[breaks - 1, len(ordered) - 1]] + SCAN_PERIOD_S
    return [(int(a), int(b), kind) for a, b in zip(starts, ends, strict=True)]
