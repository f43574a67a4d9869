"""Run the population model and summarise it: the numbers a health authority asks for.

`run(params)` plays all days and returns a JSON-ready summary (deterministic for the
parameters, seed included). `run_with_counterfactual` also runs the same seed with nobody using
the app (uptake scale 0, same named random streams for everything else) to count infections
averted per 1,000 warnings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from tracewarn.sim.epidemic.disease import NEVER
from tracewarn.sim.epidemic.model import Model
from tracewarn.sim.epidemic.params import Params

__all__ = ["Progress", "run", "run_with_counterfactual", "summarise"]

Progress = Callable[[int, int], None]
RT_TAIL_DAYS = 14  # people infected in the last days have not finished infecting others


def run(
    p: Params, progress: Progress | None = None, *, full_protocol: bool = False
) -> dict[str, Any]:
    """Run `p.days` days; the summary of `summarise` plus the wall time in seconds.

    `full_protocol`: app users are real phones and uploads go through the real backend
    (`full_protocol.full_protocol_model`, at most 2,000 people, check-ins off)."""
    started = time.perf_counter()
    if full_protocol:
        from tracewarn.sim.epidemic.full_protocol import full_protocol_model

        with full_protocol_model(p) as model:
            _play(model, progress)
            summary = summarise(model)
    else:
        model = Model(p)
        _play(model, progress)
        summary = summarise(model)
    summary["mode"] = "full-protocol" if full_protocol else "fast"
    summary["seconds"] = round(time.perf_counter() - started, 3)
    return summary


def _play(model: Model, progress: Progress | None) -> None:
    for day in range(model.p.days):
        model.step()
        if progress is not None:
            progress(day + 1, model.p.days)


def summarise(model: Model) -> dict[str, Any]:
    """Totals, per-day series and warning quality of a finished model."""
    p, d, app = model.p, model.daily, model.app
    days = model.day
    infected = model.t_inf < days
    levels = app.table.config.scale
    warn_by_level = np.sum(np.array(d.warnings, dtype=np.int64), axis=0) if d.warnings else []
    warned = model.warned
    # A warning is right when the warned person was infected by someone who uploaded keys;
    # recall counts app users infected by an uploader on a day whose key was uploaded.
    by_uploader = np.zeros(model.people.n, dtype=bool)
    has = model.infector >= 0
    by_uploader[has] = app.uploaded[model.infector[has]]
    true_warned = int(np.count_nonzero(warned & by_uploader & infected))
    n_warned = int(np.count_nonzero(warned))
    traceable = int(np.count_nonzero(app.traceable))
    offspring = np.bincount(model.infector[has], minlength=model.people.n)
    r_t = []
    for t in range(days):
        sel = model.t_inf == t
        k = int(np.count_nonzero(sel))
        r_t.append(
            round(float(offspring[sel].mean()), 3) if k and t < days - RT_TAIL_DAYS else None
        )
    uploads = int(sum(d.uploads))
    # Onward infections of people infected early enough to have finished infecting others.
    done = model.t_inf < days - RT_TAIL_DAYS
    app_users = model.people.app

    def onward(mask: npt.NDArray[np.bool_]) -> float | None:
        sel = done & mask
        return round(float(offspring[sel].mean()), 3) if np.any(sel) else None

    return {
        "population": p.population,
        "days": days,
        "seed": p.seed,
        "uptake_scale": p.uptake_scale,
        "app_users": int(np.count_nonzero(model.people.app)),
        "total_infected": int(np.count_nonzero(infected)),
        "peak_infected": int(max(d.infectious, default=0)),
        "peak_day": int(np.argmax(d.infectious)) if d.infectious else 0,
        "deaths": int(np.count_nonzero(model.death < days)),
        "hospitalised_peak": int(max(d.hospitalised, default=0)),
        "tests": int(sum(d.tests)),
        "positives": int(sum(d.positives)),
        "uploads": uploads,
        "warnings": int(n_warned),
        "warnings_by_level": {
            levels.names[i]: int(warn_by_level[i]) for i in range(1, len(levels.names))
        }
        if len(warn_by_level)
        else {},
        "warnings_per_upload": round(n_warned / uploads, 3) if uploads else None,
        "precision": round(true_warned / n_warned, 4) if n_warned else None,
        "recall": round(int(np.count_nonzero(warned & app.traceable)) / traceable, 4)
        if traceable
        else None,
        "by_level": _by_level(model, levels.names, by_uploader & infected),
        "exposure_windows": int(app.windows_total),
        "quarantine_person_days": int(sum(d.quarantined)),
        "quarantine_person_days_warned": int(sum(d.quarantined_warned)),
        "still_susceptible": int(np.count_nonzero(model.t_inf == NEVER)),
        "onward_infections_app_users": onward(app_users),
        "onward_infections_non_users": onward(~app_users),
        "r_t": r_t,
        "daily": {
            "new_infections": d.new_infections,
            "infectious": d.infectious,
            "quarantined": d.quarantined,
            "hospitalised": d.hospitalised,
            "deaths": d.deaths,
            "positives": d.positives,
            "uploads": d.uploads,
            "warnings": [int(sum(w[1:])) for w in d.warnings],
        },
    }


def _by_level(
    model: Model, names: tuple[str, ...], correct: npt.NDArray[np.bool_]
) -> dict[str, Any]:
    """Per warning level: people whose highest warning was it, precision, recall at >= level."""
    out: dict[str, Any] = {}
    traceable = model.app.traceable
    n_traceable = int(np.count_nonzero(traceable))
    for level in range(1, len(names)):
        at = model.warned_level == level
        at_least = model.warned_level >= level
        k = int(np.count_nonzero(at))
        out[names[level]] = {
            "people": k,
            "precision": round(int(np.count_nonzero(at & correct)) / k, 4) if k else None,
            "recall_at_or_above": round(
                int(np.count_nonzero(at_least & traceable)) / n_traceable, 4
            )
            if n_traceable
            else None,
        }
    return out


def run_with_counterfactual(
    p: Params, progress: Progress | None = None, *, full_protocol: bool = False
) -> dict[str, Any]:
    """`run(p)` plus the same seed without the app: infections averted per 1,000 warnings."""
    total = 2 * p.days

    def first(done: int, _: int) -> None:
        if progress is not None:
            progress(done, total)

    def second(done: int, _: int) -> None:
        if progress is not None:
            progress(p.days + done, total)

    if full_protocol:
        from tracewarn.sim.epidemic.full_protocol import full_protocol_params

        p = full_protocol_params(p)
    summary = run(p, first, full_protocol=full_protocol)
    # Without the app nobody has a phone: the counterfactual is the fast mode's (same thing).
    base = summary if p.uptake_scale == 0 else run(p.with_(uptake_scale=0.0), second)
    averted = base["total_infected"] - summary["total_infected"]
    summary["counterfactual_total_infected"] = base["total_infected"]
    summary["infections_averted"] = averted
    summary["averted_per_1000_warnings"] = (
        round(1000 * averted / summary["warnings"], 1) if summary["warnings"] else None
    )
    summary["seconds"] = round(
        summary["seconds"] + (base["seconds"] if base is not summary else 0), 3
    )
    return summary
