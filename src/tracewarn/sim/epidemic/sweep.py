"""Sensitivity sweeps on Dask distributed: every (uptake scale, seed) pair is one task.

A health authority's 1,000-point analysis runs the same way on one laptop (a `LocalCluster`, the
default) or on many machines (`scheduler="tcp://host:8786"` of an existing cluster). Tasks are
independent runs of `runner.run`; each returns only its small summary, never arrays, so the
scheduler's traffic stays tiny. Reduction is against uptake scale 0 of the same sweep with the
same seeds (paired by seed, like for like).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tracewarn.sim.epidemic.params import Params
from tracewarn.sim.epidemic.runner import run

__all__ = ["SweepPoint", "points_of", "sweep"]

SweepPoint = dict[str, Any]
Progress = Callable[[int, int], None]
_KEEP = (
    "uptake_scale",
    "seed",
    "total_infected",
    "peak_infected",
    "deaths",
    "warnings",
    "uploads",
    "quarantine_person_days",
    "precision",
    "recall",
    "seconds",
)


def _task(p: Params) -> dict[str, Any]:
    summary = run(p)
    out = {key: summary[key] for key in _KEEP}
    # New infections in the last two weeks: whether the epidemic is still growing at the end
    # (the NHSX report's "suppression" is incidence falling after lockdown is released).
    new = summary["daily"]["new_infections"]
    out["final_week_infected"] = sum(new[-7:])
    out["week_before_infected"] = sum(new[-14:-7])
    return out


def sweep(
    base: Params,
    scales: Sequence[float],
    seeds: int,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    processes: bool = True,
    progress: Progress | None = None,
) -> tuple[list[SweepPoint], list[dict[str, Any]]]:
    """Run every (scale, seed) pair (plus scale 0 if missing); returns (points, runs)."""
    from dask.distributed import Client, LocalCluster, as_completed

    wanted = list(dict.fromkeys(float(s) for s in scales))
    scales_run = wanted if 0.0 in wanted else [0.0, *wanted]
    jobs = [
        base.with_(uptake_scale=scale, seed=base.seed + k)
        for scale in scales_run
        for k in range(seeds)
    ]
    if scheduler is not None:
        client = Client(scheduler, timeout="10s")
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            host="127.0.0.1",
        )
        client = Client(cluster)
    try:
        futures = client.map(_task, jobs, pure=False)
        runs: list[dict[str, Any]] = []
        for done, future in enumerate(as_completed(futures), start=1):
            runs.append(future.result())
            if progress is not None:
                progress(done, len(jobs))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    runs.sort(key=lambda r: (r["uptake_scale"], r["seed"]))
    return points_of(runs, wanted), runs


def points_of(runs: list[dict[str, Any]], scales: Sequence[float]) -> list[SweepPoint]:
    """Mean infections per scale and the reduction against scale 0 (in percent)."""

    def mean_infected(scale: float) -> float:
        values = [r["total_infected"] for r in runs if r["uptake_scale"] == scale]
        return float(sum(values)) / len(values)

    baseline = mean_infected(0.0)
    points = []
    for scale in scales:
        mean = mean_infected(scale)
        reduction = 100.0 * (baseline - mean) / baseline if baseline else 0.0
        points.append(
            {
                "uptake_scale": scale,
                "mean_total_infected": round(mean, 2),
                "reduction_pct": round(reduction, 2),
            }
        )
    return points
