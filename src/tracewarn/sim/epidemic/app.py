"""The app layer: contact diaries between app users, uploads, published keys and warnings.

Theory of operation. Only contacts between two app users leave a trace on phones. The model
keeps what a phone would have observed, for as many days as keys are uploaded: household and
occupation contacts are re-derived from the static graphs (occupation edges by their daily hash,
who was absent from a stored bit mask), random contacts between app users are stored per day.

When a person uploads (after a positive test, or on symptoms where the preset allows it, with
consent), their keys of the last `lookback_days` are published after the TAN, hourly-package and
sync delays; on the day the other phones have them, each contact becomes exposure windows: the
radio model (`tracewarn.sim.radio`) gives one attenuation per 30-minute window from the contact's
distance and the two phones' carriage and calibration, the contact's duration gives the number of
5-minute scans, and the uploader's CWA transmission-risk vector
(`tracewarn.protocol.presence.risk_vector`) gives each day's TRL. The windows are scored with the
phone's configuration (`risk_table`), accumulated per phone, and a phone warns when its total
level rises. Nothing here knows who infected whom: ground truth is only used for the metrics.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.presence.risk_vector import SymptomAnswer, transmission_risk_vector
from tracewarn.sim.epidemic.params import Params
from tracewarn.sim.epidemic.people import People, edge_present
from tracewarn.sim.epidemic.presence import Presence
from tracewarn.sim.epidemic.risk_table import SCAN_SECONDS, WINDOW_SCANS, RiskTable, risk_table
from tracewarn.sim.radio import RadioModel
from tracewarn.sim.streams import stream

__all__ = ["AppLayer", "Uploads"]

I64 = npt.NDArray[np.int64]
HOME, WORK, RANDOM = 0, 1, 2
WINDOW_RETENTION_DAYS = 14  # phones keep exposure windows of the last 14 days


@lru_cache(maxsize=256)
def _trl_vector(dsos: int | None) -> tuple[int, ...]:
    if dsos is None:
        return transmission_risk_vector(SymptomAnswer.NO_SYMPTOMS)
    return transmission_risk_vector(SymptomAnswer.ONSET_DATE, dsos)


@dataclass
class Uploads:
    """Uploads whose keys reach phones on a given day."""

    person: list[I64] = field(default_factory=list)
    upload_day: list[I64] = field(default_factory=list)
    onset: list[I64] = field(default_factory=list)  # -1: no symptoms answered
    today_key: list[npt.NDArray[np.bool_]] = field(default_factory=list)  # only the upload day's


class AppLayer:
    """Diaries, uploads and warnings of one run; `warn(day)` returns (person, level) warned."""

    def __init__(self, p: Params, people: People) -> None:
        self.p = p
        self.people = people
        self.table: RiskTable = risk_table(p.risk_config)
        self.presence: Presence | None = (
            Presence(p, people, self.table.config.scale) if p.place_visit_probability > 0 else None
        )
        self._presence_held = np.zeros(people.n, dtype=bool)
        self.radio = RadioModel()
        n = people.n
        self.calibration = stream(p.seed, "phone-calibration").normal(
            0.0, self.radio.calibration_sd_db, n
        )
        self.consent = stream(p.seed, "upload-consent").random(n) < p.upload_consent
        self._rng = stream(p.seed, "app")
        self._radio_rng = stream(p.seed, "radio")
        self.uploaded = np.zeros(n, dtype=bool)
        self.notified = np.zeros(n, dtype=np.int64)  # highest level the phone has shown
        self.traceable = np.zeros(n, dtype=bool)  # infected by an uploader on an uploaded day
        self._pending: dict[int, Uploads] = defaultdict(Uploads)
        self._random: dict[int, tuple[I64, I64]] = {}
        self._absent: dict[int, npt.NDArray[np.bool_]] = {}
        self._hospital: dict[int, npt.NDArray[np.bool_]] = {}
        # Windows a phone holds: receiver, contact day, normalized time (arrival order).
        self._w_receiver = np.empty(0, np.int64)
        self._w_day = np.empty(0, np.int64)
        self._w_time = np.empty(0, np.float64)
        self.windows_total = 0

    # -- diary ---------------------------------------------------------------------------------

    def record_day(
        self,
        day: int,
        random_a: I64,
        random_b: I64,
        absent: npt.NDArray[np.bool_],
        hospital: npt.NDArray[np.bool_],
    ) -> None:
        """Keep what phones saw today: random app-app pairs and who stayed home or in hospital."""
        app = self.people.app
        both = app[random_a] & app[random_b]
        self._random[day] = (random_a[both], random_b[both])
        self._absent[day] = absent
        self._hospital[day] = hospital
        horizon = day - self.p.lookback_days - 4
        for store in (self._random, self._absent, self._hospital):
            for old in [d for d in store if d < horizon]:
                del store[old]

    def contacts(self, uploaders: I64, day: int) -> tuple[I64, I64, I64]:
        """(uploader, other app user, layer) for every contact of `uploaders` on `day`."""
        if day not in self._absent:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
        app = self.people.app
        absent = self._absent[day]
        hospital = self._hospital[day]
        out_u, out_v, out_l = [], [], []
        u, v, _ = self.people.home.gather(uploaders)
        keep = app[v] & ~hospital[u] & ~hospital[v]
        out_u.append(u[keep])
        out_v.append(v[keep])
        out_l.append(np.full(int(keep.sum()), HOME))
        u, v, e = self.people.work.gather(uploaders)
        keep = app[v] & ~absent[u] & ~absent[v]
        keep &= edge_present(e, day, self.p.seed, self.p.daily_fraction_work)
        out_u.append(u[keep])
        out_v.append(v[keep])
        out_l.append(np.full(int(keep.sum()), WORK))
        ra, rb = self._random[day]
        mask = np.zeros(self.people.n, dtype=bool)
        mask[uploaders] = True
        hit_a, hit_b = mask[ra], mask[rb]
        out_u += [ra[hit_a], rb[hit_b]]
        out_v += [rb[hit_a], ra[hit_b]]
        out_l.append(np.full(int(hit_a.sum() + hit_b.sum()), RANDOM))
        return np.concatenate(out_u), np.concatenate(out_v), np.concatenate(out_l)

    # -- uploads -------------------------------------------------------------------------------

    def upload(self, day: int, person: I64, onset: I64) -> I64:
        """App users with consent upload today; returns who did. Keys reach phones later."""
        ok = self.people.app[person] & self.consent[person] & ~self.uploaded[person]
        person, onset = person[ok], onset[ok]
        if len(person) == 0:
            return person
        self.uploaded[person] = True
        p = self.p
        hour = self._rng.random(len(person)) * 24.0
        sync = self._rng.random(len(person)) * p.sync_delay_hours
        # The TAN arrives, keys are uploaded, the next hourly package publishes them (at most an
        # hour later), and phones fetch it at their next sync.
        hours = np.ceil(hour + p.tan_delay_hours) + p.publication_delay_hours + sync
        arrive = day + np.floor(hours / 24.0).astype(np.int64)
        if p.same_day_key_next_day:
            # The upload day's key is still in use: it is uploaded after it expires at midnight
            # and published after the backend's embargo, so phones get it a day later.
            self._schedule(arrive, day, person, onset, today_key=False)
            self._schedule(np.maximum(arrive, day + 1), day, person, onset, today_key=True)
        else:
            self._schedule(arrive, day, person, onset, today_key=None)
        return person

    def _schedule(
        self, arrive: I64, day: int, person: I64, onset: I64, *, today_key: bool | None
    ) -> None:
        """Queue keys for the day phones have them; today_key None means all keys at once."""
        for d in np.unique(arrive):
            sel = arrive == d
            k = int(sel.sum())
            slot = self._pending[int(d)]
            slot.person.append(person[sel])
            slot.upload_day.append(np.full(k, day, dtype=np.int64))
            slot.onset.append(onset[sel])
            # 0: all keys, 1: all but the upload day's, 2: only the upload day's.
            slot.today_key.append(np.full(k, 0 if today_key is None else 1 + int(today_key)))

    def mark_traceable(self, day: int, uploaders: I64, infector: I64, t_inf: I64) -> None:
        """Ground truth: app users these uploaders infected within their uploaded days."""
        mask = np.zeros(self.people.n, dtype=bool)
        mask[uploaders] = True
        has = infector >= 0
        hit = np.zeros(self.people.n, dtype=bool)
        hit[has] = mask[infector[has]]
        hit &= self.people.app & (t_inf > day - self.p.lookback_days) & (t_inf <= day)
        self.traceable |= hit

    # -- warnings ------------------------------------------------------------------------------

    def warn(self, day: int) -> tuple[I64, I64]:
        """Phones sync the keys due today, score their windows; returns (newly warned, level)."""
        slot = self._pending.pop(day, None)
        if slot is None or not slot.person:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        person = np.concatenate(slot.person)
        upload_day = np.concatenate(slot.upload_day)
        onset = np.concatenate(slot.onset)
        which = np.concatenate(slot.today_key)
        receivers, days, times = [], [], []
        checked_in: list[I64] = []
        for uday, kind in sorted(
            {(int(a), int(b)) for a, b in zip(upload_day, which, strict=True)}
        ):
            group = (upload_day == uday) & (which == kind)
            uploaders = person[group]
            order = np.argsort(uploaders)
            # Each uploader's TRL by key age: its CWA vector from days since onset at upload.
            trls = np.array(
                [
                    _trl_vector(None if o < 0 else int(uday) - o)
                    for o in onset[group][order].tolist()
                ],
                dtype=np.int64,
            ).reshape(len(order), -1)
            if self.presence is not None and kind != 2:
                touched = self.presence.report(uploaders[order], int(uday), trls)
                self._presence_held[touched] = True
                checked_in.append(touched)
            backs = {0: range(self.p.lookback_days), 1: range(1, self.p.lookback_days)}
            for back in backs.get(kind, range(1)):
                cday = int(uday) - back
                u, v, layer = self.contacts(uploaders, cday)
                if len(u) == 0:
                    continue
                row = np.searchsorted(uploaders[order], u)
                trl = trls[row, min(back, trls.shape[1] - 1)]
                r, t = self._windows(u, v, layer, trl, cday)
                receivers.append(r)
                days.append(np.full(len(r), cday, dtype=np.int64))
                times.append(t)
        receivers.append(np.empty(0, np.int64))
        days.append(np.empty(0, np.int64))
        times.append(np.empty(0, np.float64))
        new_r, new_d = np.concatenate(receivers), np.concatenate(days)
        self.windows_total += len(new_r)
        self._w_receiver = np.concatenate([self._w_receiver, new_r])
        self._w_day = np.concatenate([self._w_day, new_d])
        self._w_time = np.concatenate([self._w_time, np.concatenate(times)])
        fresh = self._w_day > day - WINDOW_RETENTION_DAYS
        self._w_receiver, self._w_day, self._w_time = (
            self._w_receiver[fresh],
            self._w_day[fresh],
            self._w_time[fresh],
        )
        affected = np.unique(np.concatenate([new_r, *checked_in]))
        sel = np.isin(self._w_receiver, affected)
        who, prox = self.table.total_levels(
            self._w_receiver[sel], self._w_day[sel], self._w_time[sel]
        )
        level = np.zeros(len(affected), dtype=np.int64)
        level[np.searchsorted(affected, who)] = prox
        if self.presence is not None:
            # The phone's level is the higher of proximity and check-in risk (CWA §2.7).
            held = self._presence_held[affected]
            level[held] = np.maximum(level[held], self.presence.levels(affected[held], day))
        who = affected
        rises = level > self.notified[who]
        who, level = who[rises], level[rises]
        self.notified[who] = level
        return who, level

    def _windows(
        self, u: I64, v: I64, layer: I64, trl: I64, cday: int
    ) -> tuple[I64, npt.NDArray[np.float64]]:
        """Exposure windows (receiver, normalized time) of contacts on `cday` with uploader keys'
        TRLs. The full-protocol mode overrides this to turn the same windows into sightings."""
        r, t, *_ = self._draw_windows(u, v, layer, trl)
        return r, t

    def _draw_windows(
        self, u: I64, v: I64, layer: I64, trl: I64
    ) -> tuple[I64, npt.NDArray[np.float64], I64, I64, I64, I64]:
        """Heard windows: (receiver, normalized time, uploader, receiver, attenuation, scans).

        One contact is split into windows of at most 6 scans (30 minutes), each with its own
        attenuation; every window of a contact is a separate 30-minute slot on a phone."""
        p, rng = self.p, self._radio_rng
        dist = np.array(p.distance_m)[layer] * rng.lognormal(0.0, 0.5, len(u))
        minutes = np.array(p.duration_min)[layer] * rng.lognormal(0.0, 0.7, len(u))
        scans = np.clip(np.ceil(minutes * 60 / SCAN_SECONDS), 1, 96).astype(np.int64)
        nwin = (scans + WINDOW_SCANS - 1) // WINDOW_SCANS
        idx = np.repeat(np.arange(len(u)), nwin)
        first = np.repeat(np.cumsum(nwin) - nwin, nwin)
        k = np.arange(len(idx)) - first
        wscans = np.minimum(WINDOW_SCANS, scans[idx] - k * WINDOW_SCANS)
        offsets = (
            self.radio.carriage(rng, len(idx))
            + self.radio.carriage(rng, len(idx))
            + self.calibration[u[idx]]
            - self.calibration[v[idx]]
        )
        att = self.radio.attenuation(rng, dist[idx], offsets, np.zeros(len(idx), dtype=bool))
        heard = att <= self.radio.max_attenuation_db
        time = self.table.window_time(trl[idx], att, wscans)
        return (
            v[idx][heard],
            time[heard],
            u[idx][heard],
            v[idx][heard],
            att[heard],
            wscans[heard],
        )
