"""The daily step of the population model: contacts, infection, disease events, tests, quarantine.

Theory of operation (shared design of OpenABM-Covid19, documentation/covid19.md; Covasim's
struct-of-arrays style). State is per-person numpy arrays; each day is vectorised over index
arrays, never a Python loop over people:

1. Who is away: quarantined or isolated people keep household contacts only; hospitalised and
   dead people have none.
2. Contacts of the infectious: household (static graph), occupation (static Watts-Strogatz graph,
   each edge present today by its hash), random (today's shuffle-and-pair of everyone's fixed
   daily count). Each contact with a susceptible subtracts lambda / S from the susceptible's
   hazard budget, drawn once as Exp(1) / S (OpenABM's `initialize_hazard` trick: one random
   number per person instead of one per contact); people whose budget falls below 0 are
   infected, the infector chosen among that day's contacts in proportion to lambda.
3. Scheduled events: symptom onset (self-isolation with the household, a test), spurious
   symptoms, test results (positive: isolation, household quarantine, upload), hospitalisation.
4. The app layer (`app.AppLayer`) records the day, publishes uploads and returns warnings;
   warned people quarantine with their level's compliance.

Lockdown and shielding (off unless `lockdown_trigger_fraction` > 0) scale the layers' lambda.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from tracewarn.sim.epidemic.app import AppLayer
from tracewarn.sim.epidemic.disease import NEVER, draw_course, gamma_curve
from tracewarn.sim.epidemic.params import Params
from tracewarn.sim.epidemic.people import People, build_people, edge_present
from tracewarn.sim.epidemic.presence import Visits
from tracewarn.sim.streams import stream

__all__ = ["Model"]

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass
class Daily:
    """Per-day series of one run."""

    new_infections: list[int] = field(default_factory=list)
    infectious: list[int] = field(default_factory=list)
    quarantined: list[int] = field(default_factory=list)
    quarantined_warned: list[int] = field(default_factory=list)
    hospitalised: list[int] = field(default_factory=list)
    deaths: list[int] = field(default_factory=list)
    tests: list[int] = field(default_factory=list)
    positives: list[int] = field(default_factory=list)
    uploads: list[int] = field(default_factory=list)
    warnings: list[list[int]] = field(default_factory=list)


class Model:
    """One run's state; `step()` advances one day. Deterministic for a `Params` (seed included)."""

    def __init__(
        self,
        p: Params,
        people: People | None = None,
        app_factory: Callable[[Params, People], AppLayer] = AppLayer,
    ) -> None:
        self.p = p
        self.people = people if people is not None else build_people(p)
        n = self.people.n
        self.day = 0
        self.curve = gamma_curve(p.mean_infectious_period, p.sd_infectious_period)
        self.t_inf = np.full(n, NEVER, dtype=np.int64)
        self.onset = np.full(n, NEVER, dtype=np.int64)
        self.hospital = np.full(n, NEVER, dtype=np.int64)
        self.death = np.full(n, NEVER, dtype=np.int64)
        self.recovery = np.full(n, NEVER, dtype=np.int64)
        self.multiplier = np.zeros(n)
        self.infector = np.full(n, -1, dtype=np.int64)
        self.quar_until = np.zeros(n, dtype=np.int64)  # away (isolated or quarantined) before
        self.warn_quar_until = np.zeros(n, dtype=np.int64)
        self.tested_positive = np.zeros(n, dtype=bool)
        self.warned = np.zeros(n, dtype=bool)
        self.warned_level = np.zeros(n, dtype=np.int64)
        self.budget = stream(p.seed, "hazard").exponential(1.0, n) / self.people.susceptibility
        self.active = np.empty(0, dtype=np.int64)  # infected and not yet recovered
        self._rng = {name: stream(p.seed, name) for name in _STREAMS}
        # Each person's course (relative to the day of infection) is drawn up front, so a run
        # with the app and its no-app counterfactual give the same course to the same person:
        # paired runs differ only by what the interventions changed (common random numbers).
        self._course = draw_course(self._rng["disease"], p, self.people.age, 0)
        self._tests: dict[int, list[tuple[I64, int]]] = {}
        # The full-protocol mode passes its own app layer (real devices and backend).
        self.app = app_factory(p, self.people)
        self.warning_log: list[tuple[int, int, int]] = []  # (person, level, day) as warned
        self.daily = Daily()
        self.daily_uploads = 0
        self._visits: Visits | None = None
        self._everyone = np.arange(n, dtype=np.int32)
        self._stay_u = np.zeros(n)
        self.lockdown_start: int | None = None  # first lockdown day, once triggered
        self._elderly = self.people.age >= 7  # the 70-79 and 80+ groups
        self.scale = p.infectious_rate / self._mean_interactions()
        seeds = self._rng["seeding"].choice(n, size=min(p.n_seed_infection, n), replace=False)
        self._infect(np.sort(seeds), np.full(len(seeds), -1, dtype=np.int64), 0)

    def _mean_interactions(self) -> float:
        """Ibar: mean daily interactions weighted by layer (OpenABM `estimate_mean_interactions`)."""
        p, ppl = self.p, self.people
        home = np.diff(ppl.home.indptr) * p.relative_transmission_household
        work = np.diff(ppl.work.indptr) * p.daily_fraction_work * p.relative_transmission_occupation
        rand = ppl.random_count * p.relative_transmission_random
        return float(np.mean(home + work + rand))

    # -- infection -----------------------------------------------------------------------------

    def _infect(self, who: I64, infector: I64, day: int) -> None:
        course = self._course
        self.t_inf[who] = day
        self.infector[who] = infector
        for name in ("onset", "hospital", "death", "recovery"):
            offset = getattr(course, name)[who]
            getattr(self, name)[who] = np.where(offset >= NEVER, NEVER, offset + day)
        self.multiplier[who] = course.multiplier[who]
        self.active = np.concatenate([self.active, who])

    def _transmit(self, day: int, away: B, gone: B) -> tuple[I64, I64]:
        """Today's random pairs; infects people (step 2). Returns the pairs for the diary."""
        p, ppl = self.p, self.people
        rng = self._rng["random-network"]
        # Everyone's stubs are shuffled, then pairs with someone at home are dropped (that
        # partner loses the contact today): who meets whom does not depend on who is away, so
        # paired runs keep the same random network.
        stubs = np.repeat(self._everyone, ppl.random_count)
        rng.shuffle(stubs)  # in place on int32: half the memory traffic of an index permutation
        half = len(stubs) // 2
        ra, rb = stubs[:half], stubs[half : 2 * half]
        keep = (ra != rb) & ~away[ra] & ~away[rb]
        ra, rb = ra[keep].astype(np.int64), rb[keep].astype(np.int64)

        self.active = self.active[self.recovery[self.active] > day]
        src = self.active[~gone[self.active]]
        age = np.minimum(day - self.t_inf[src], len(self.curve) - 1)
        inf = self.curve[age] * self.multiplier[src]
        src, inf = src[inf > 0], inf[inf > 0]
        if len(src) == 0:
            return ra, rb
        level = np.zeros(ppl.n)
        level[src] = inf
        parts: list[tuple[I64, I64, npt.NDArray[np.float64]]] = []
        s, d, _ = ppl.home.gather(src)
        keep = ~gone[d]
        home_f, work_f, rand_f, shield = self._restrictions(day)
        parts.append(
            (s[keep], d[keep], level[s[keep]] * p.relative_transmission_household * home_f)
        )
        out = src[~away[src]]
        s, d, e = ppl.work.gather(out)
        keep = ~away[d] & edge_present(e, day, p.seed, p.daily_fraction_work)
        lam = level[s[keep]] * p.relative_transmission_occupation * work_f
        parts.append((s[keep], d[keep], self._shield(lam, s[keep], d[keep], shield)))
        infectious = level > 0
        if self._visits is not None:
            s, d, weight = self.app.presence.exposures(self._visits, infectious)  # type: ignore[union-attr]
            parts.append((s, d, level[s] * weight))
        for a, b in ((ra, rb), (rb, ra)):
            hit = infectious[a]
            lam = level[a[hit]] * p.relative_transmission_random * rand_f
            parts.append((a[hit], b[hit], self._shield(lam, a[hit], b[hit], shield)))
        s = np.concatenate([x[0] for x in parts])
        d = np.concatenate([x[1] for x in parts])
        lam = np.concatenate([x[2] for x in parts]) * self.scale
        sus = self.t_inf[d] == NEVER
        s, d, lam = s[sus], d[sus], lam[sus]
        self.budget -= np.bincount(d, weights=lam, minlength=ppl.n)
        newly = np.unique(d[self.budget[d] <= 0])
        if len(newly):
            # The infector: an exponential race among today's contacts, i.e. chosen with
            # probability proportional to lambda.
            hit = np.isin(d, newly)
            s, d, lam = s[hit], d[hit], lam[hit]
            race = self._rng["infector"].exponential(1.0, len(d)) / lam
            order = np.lexsort((race, d))
            first = np.ones(len(order), dtype=bool)
            first[1:] = d[order][1:] != d[order][:-1]
            self._infect(d[order][first], s[order][first], day)
        return ra, rb

    def _restrictions(self, day: int) -> tuple[float, float, float, float]:
        """Today's (household, work, random) lambda factors and the over-70s' shielding factor."""
        p = self.p
        if self.lockdown_start is None or day < self.lockdown_start:
            return 1.0, 1.0, 1.0, 1.0
        if day < self.lockdown_start + p.lockdown_days:
            return (
                p.lockdown_household_multiplier,
                p.lockdown_work_multiplier,
                p.lockdown_random_multiplier,
                1.0,
            )
        return 1.0, 1.0, 1.0, p.shield_elderly_multiplier

    def _shield(
        self, lam: npt.NDArray[np.float64], a: I64, b: I64, factor: float
    ) -> npt.NDArray[np.float64]:
        """Contacts with a shielded over-70 at either end transmit `factor` times as much."""
        if factor == 1.0:
            return lam
        return np.where(self._elderly[a] | self._elderly[b], lam * factor, lam)

    def _app_on(self, day: int) -> bool:
        """Whether uploads count today: always, or from the end of lockdown in the NHSX set."""
        if not self.p.app_on_after_lockdown:
            return True
        start = self.lockdown_start
        return start is not None and day >= start + self.p.lockdown_days

    # -- quarantine and tests ------------------------------------------------------------------

    def _stay_home(self, who: I64, day: int, length: int, dropout: float) -> I64:
        """Quarantine `who` from `day` for up to `length` days, leaving daily with `dropout`."""
        if len(who) == 0 or length <= 0:
            return np.empty(0, np.int64)
        if dropout > 0:
            # Geometric by inversion of the person's uniform of the day (drawn for everyone).
            u = self._stay_u[who]
            stay = np.maximum(1, np.ceil(np.log1p(-u) / np.log1p(-dropout))).astype(np.int64)
        else:
            stay = np.full(len(who), length, dtype=np.int64)
        until = day + np.minimum(stay, length)
        self.quar_until[who] = np.maximum(self.quar_until[who], until)
        return np.asarray(until, dtype=np.int64)

    def _household(self, who: I64) -> I64:
        _, members, _ = self.people.home.gather(who)
        return np.unique(members)

    def _order_tests(self, who: I64, day: int) -> None:
        if len(who) == 0:
            return
        take = day + self.p.test_order_wait
        self._tests.setdefault(take + self.p.test_result_wait, []).append((who, take))

    def _symptoms(self, day: int) -> None:
        p, rng = self.p, self._rng["symptoms"]
        n = self.people.n
        true_onset = np.nonzero(self.onset == day)[0]
        spurious = np.nonzero(rng.random(n) < p.daily_non_cov_symptoms_rate)[0]
        isolates, tests = rng.random(n), rng.random(n)
        spurious = spurious[(self.t_inf[spurious] == NEVER) & (self.quar_until[spurious] <= day)]
        sick = np.concatenate([true_onset, spurious])
        isolate = sick[isolates[sick] < p.self_quarantine_fraction]
        self._stay_home(isolate, day, p.quarantine_length_self, p.quarantine_dropout_self)
        if p.quarantine_household_on_symptoms:
            self._stay_home(
                self._household(isolate), day, p.quarantine_length_self, p.quarantine_dropout_self
            )
        if p.test_on_symptoms:
            self._order_tests(sick[tests[sick] < p.test_on_symptoms_compliance], day)
        if p.trace_on_symptoms:
            self._upload(day, isolate, np.full(len(isolate), day))

    def _results(self, day: int) -> None:
        p, rng = self.p, self._rng["tests"]
        positives = []
        tests = 0
        draws = rng.random(self.people.n)
        for who, take in self._tests.pop(day, []):
            who = who[~self.tested_positive[who]]
            tests += len(who)
            since = take - self.t_inf[who]
            infected = (self.t_inf[who] != NEVER) & (since >= 0) & (self.recovery[who] > take)
            sensitive = infected & (since < p.test_sensitive_period)
            sensitive &= (since >= p.test_insensitive_period) | (self.onset[who] <= take)
            u = draws[who]
            pos = (sensitive & (u < p.test_sensitivity)) | (
                ~infected & (u < 1.0 - p.test_specificity)
            )
            positives.append(who[pos])
        if p.allow_clinical_diagnosis:
            positives.append(np.nonzero(self.hospital == day)[0])
        pos = np.unique(np.concatenate(positives)) if positives else np.empty(0, np.int64)
        pos = pos[~self.tested_positive[pos]]
        self.tested_positive[pos] = True
        self.daily.tests.append(tests)
        self.daily.positives.append(len(pos))
        self._stay_home(pos, day, p.quarantine_length_positive, p.quarantine_dropout_positive)
        if p.quarantine_household_on_positive:
            self._stay_home(
                self._household(pos),
                day,
                p.quarantine_length_positive,
                p.quarantine_dropout_positive,
            )
        if p.trace_on_positive:
            onset = np.where(self.onset[pos] <= day, self.onset[pos], -1)
            self._upload(day, pos, onset)

    def _upload(self, day: int, who: I64, onset: I64) -> None:
        if not self._app_on(day):
            return
        done = self.app.upload(day, who, onset)
        self.daily_uploads += len(done)
        if len(done):
            self.app.mark_traceable(day, done, self.infector, self.t_inf)

    def _warnings(self, day: int) -> None:
        p = self.p
        who, level = self.app.warn(day)
        counts = np.bincount(level, minlength=self.app.table.levels).tolist()
        self.daily.warnings.append([int(c) for c in counts])
        if len(who) == 0:
            return
        self.warning_log.extend(
            (int(w), int(lv), day) for w, lv in zip(who.tolist(), level.tolist(), strict=True)
        )
        self.warned[who] = True
        self.warned_level[who] = np.maximum(self.warned_level[who], level)
        comp = np.array(p.quarantine_compliance_by_level)
        threshold = comp[np.minimum(level - 1, len(comp) - 1)]
        obey = who[self.people.compliance[who] < threshold]
        until = self._stay_home(obey, day, p.quarantine_length_traced, p.quarantine_dropout_traced)
        if len(obey):
            self.warn_quar_until[obey] = np.maximum(self.warn_quar_until[obey], until)
        if p.quarantine_household_on_traced:
            self._stay_home(
                self._household(obey), day, p.quarantine_length_traced, p.quarantine_dropout_traced
            )

    # -- the day -------------------------------------------------------------------------------

    def step(self) -> None:
        """Advance one day."""
        day = self.day
        self.daily_uploads = 0
        self._stay_u = self._rng["dropout"].random(self.people.n)
        p = self.p
        if p.lockdown_trigger_fraction > 0 and self.lockdown_start is None:
            infected = np.count_nonzero(self.t_inf != NEVER)
            if infected >= p.lockdown_trigger_fraction * self.people.n:
                self.lockdown_start = day
        gone = (self.hospital <= day) & (self.recovery > day) | (self.death <= day)
        away = gone | (self.quar_until > day)
        presence = self.app.presence
        self._visits = presence.visits(day, away) if presence is not None else None
        ra, rb = self._transmit(day, away, gone)
        self.app.record_day(day, ra, rb, away, gone)
        self._symptoms(day)
        self._results(day)
        self._warnings(day)
        d = self.daily
        d.new_infections.append(int(np.count_nonzero(self.t_inf == day)))
        d.infectious.append(len(self.active))
        d.quarantined.append(int(np.count_nonzero((self.quar_until > day) & ~gone)))
        d.quarantined_warned.append(int(np.count_nonzero((self.warn_quar_until > day) & ~gone)))
        d.hospitalised.append(int(np.count_nonzero((self.hospital <= day) & (self.recovery > day))))
        d.deaths.append(int(np.count_nonzero(self.death <= day)))
        d.uploads.append(self.daily_uploads)
        self.day += 1


_STREAMS = ("seeding", "disease", "random-network", "infector", "dropout", "symptoms", "tests")
