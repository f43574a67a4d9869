"""Presence tracing layer: venues, train coaches and checkpoints, check-ins and check-in warnings.

Each day some people who are not staying home visit one place: a venue (café, restaurant), a
train coach (tracewarn's transport locations are per coach and service day) or a checkpoint.
People at the same place at the same time infect each other in proportion to the overlap
(hours x the place's weight; a train coach is a closed metal box where Bluetooth says little,
which is exactly why check-ins matter there). App users who habitually scan the QR code check in.

When an uploader's check-ins are published (CWA's protected reports, with the TRL of the
uploader's transmission-risk vector for that day), every phone with an overlapping check-in at
the same place scores it with the project's check-in rules:
`tracewarn.protocol.presence.risk.presence_risk` on `CheckInOverlap`s, with the shipped
parameters on the phone's level scale. Check-ins older than the parameters' maximum age are gone.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.presence.matching import CheckInOverlap
from tracewarn.protocol.presence.risk import (
    PresenceRiskParameters,
    presence_risk,
    presence_risk_parameters_for,
)
from tracewarn.protocol.risk import RiskLevelScale
from tracewarn.sim.epidemic.params import Params
from tracewarn.sim.epidemic.people import People
from tracewarn.sim.streams import stream

__all__ = ["PLACE_KINDS", "Presence", "Visits"]

I64 = npt.NDArray[np.int64]
PLACE_KINDS = ("venue", "train_coach", "checkpoint")
DAY = 86_400


class Visits:
    """One day's visits, sorted by place: person, place, start and end (unix-like seconds)."""

    def __init__(self, person: I64, place: I64, start: I64, end: I64) -> None:
        order = np.lexsort((start, place))
        self.person, self.place = person[order], place[order]
        self.start, self.end = start[order], end[order]

    def __len__(self) -> int:
        return len(self.person)

    def co_present(self, chosen: I64) -> tuple[I64, I64, I64]:
        """(visit, other visit, overlap seconds > 0) for visits `chosen` (indices)."""
        first = np.searchsorted(self.place, self.place[chosen], side="left")
        last = np.searchsorted(self.place, self.place[chosen], side="right")
        count = last - first
        a = np.repeat(chosen, count)
        b = np.repeat(first, count) + (
            np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        )
        overlap = np.minimum(self.end[a], self.end[b]) - np.maximum(self.start[a], self.start[b])
        keep = (overlap > 0) & (a != b)
        return a[keep], b[keep], overlap[keep]


class Presence:
    """Places, daily visits and check-ins of one run."""

    def __init__(self, p: Params, people: People, scale: RiskLevelScale) -> None:
        self.p = p
        self.people = people
        n = people.n
        counts = [max(1, round(n * per / 1000)) for per in p.places_per_1000]
        self.kind = np.repeat(np.arange(3), counts)
        self.weight = np.array(p.place_transmission)[self.kind]
        self.checks_in = people.app & (
            stream(p.seed, "check-in-habit").random(n) < p.check_in_probability
        )
        self.params: PresenceRiskParameters = presence_risk_parameters_for(scale)
        self._rng = stream(p.seed, "visits")
        self._check_ins: dict[int, Visits] = {}
        # Overlaps phones hold: receiver, check-in id, start, end, TRL (arrival order).
        self._overlaps: list[tuple[int, int, int, int, int]] = []

    def visits(self, day: int, away: npt.NDArray[np.bool_]) -> Visits:
        """Today's visits of people not staying home; keeps app users' check-ins."""
        p, rng = self.p, self._rng
        n = self.people.n
        # Plans are drawn independently of who stays home, then those at home drop out, so
        # paired runs (with and without the app) keep everyone else's visits.
        who = np.nonzero(rng.random(n) < p.place_visit_probability)[0]
        kind = rng.choice(3, size=len(who), p=np.array(p.place_kind_share))
        first = np.searchsorted(self.kind, kind, side="left")
        size = np.bincount(self.kind, minlength=3)[kind]
        place = first + (rng.random(len(who)) * size).astype(np.int64)
        minutes = np.array(p.place_minutes)[kind] * rng.lognormal(0.0, 0.4, len(who))
        start = day * DAY + rng.integers(7 * 3600, 21 * 3600, len(who))
        end = start + np.maximum(60, (minutes * 60).astype(np.int64))
        go = ~away[who]
        visits = Visits(who[go], place[go], start[go], end[go])
        mine = self.checks_in[visits.person]
        self._check_ins[day] = Visits(
            visits.person[mine], visits.place[mine], visits.start[mine], visits.end[mine]
        )
        for old in [d for d in self._check_ins if d < day - self.params.max_check_in_age_days - 4]:
            del self._check_ins[old]
        return visits

    def exposures(
        self, visits: Visits, infectious: npt.NDArray[np.bool_]
    ) -> tuple[I64, I64, npt.NDArray[np.float64]]:
        """(infector, other person, overlap hours x place weight) of infectious visitors."""
        chosen = np.nonzero(infectious[visits.person])[0]
        a, b, overlap = visits.co_present(chosen)
        return visits.person[a], visits.person[b], overlap / 3600.0 * self.weight[visits.place[a]]

    def report(self, uploaders: I64, upload_day: int, trls: npt.NDArray[np.int64]) -> I64:
        """Publish uploaders' check-ins (rows of `trls` by key age); returns receivers touched."""
        receivers = []
        pos = {u: k for k, u in enumerate(uploaders.tolist())}
        for back in range(min(self.params.max_check_in_age_days, trls.shape[1])):
            day = upload_day - back
            visits = self._check_ins.get(day)
            if visits is None or len(visits) == 0:
                continue
            mine = np.nonzero(np.isin(visits.person, uploaders))[0]
            if len(mine) == 0:
                continue
            a, b, _ = visits.co_present(mine)
            for i, j in zip(a.tolist(), b.tolist(), strict=True):
                other = int(visits.person[j])
                if other in pos:
                    continue
                trl = int(trls[pos[int(visits.person[i])], back])
                start = max(int(visits.start[i]), int(visits.start[j]))
                end = min(int(visits.end[i]), int(visits.end[j]))
                self._overlaps.append((other, day * 1_000_000 + j, start, end, trl))
                receivers.append(other)
        return np.unique(np.array(receivers, dtype=np.int64))

    def levels(self, receivers: I64, today: int) -> I64:
        """Each receiver's check-in risk level from all overlaps it holds (0: none)."""
        horizon = (today - self.params.max_check_in_age_days) * DAY
        self._overlaps = [o for o in self._overlaps if o[2] >= horizon]
        wanted = set(receivers.tolist())
        held: dict[int, list[CheckInOverlap]] = {r: [] for r in wanted}
        for receiver, check_in, start, end, trl in self._overlaps:
            if receiver in wanted:
                held[receiver].append(CheckInOverlap(check_in, start, end, trl))
        out = np.zeros(len(receivers), dtype=np.int64)
        for k, r in enumerate(receivers.tolist()):
            total = presence_risk(held[r], self.params).total
            out[k] = total if isinstance(total, int) else 0
        return out
