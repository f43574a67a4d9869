"""Sweeps on an existing Dask scheduler (the `--scheduler ADDRESS` path) and their reduction."""

from __future__ import annotations

import pytest

from tracewarn.sim.epidemic import preset
from tracewarn.sim.epidemic.sweep import points_of, sweep


def test_sweep_on_an_existing_scheduler() -> None:
    from dask.distributed import LocalCluster

    base = preset("openabm", population=1500, days=15)
    with LocalCluster(
        n_workers=1, processes=False, dashboard_address=None, protocol="tcp", host="127.0.0.1"
    ) as cluster:
        points, runs = sweep(base, [1.0], 2, scheduler=cluster.scheduler_address)
    # Scale 0 is run for the reduction even when not asked for, and paired by seed.
    assert sorted((r["uptake_scale"], r["seed"]) for r in runs) == [
        (0.0, 1), (0.0, 2), (1.0, 1), (1.0, 2),
    ]  # fmt: skip
    assert [p["uptake_scale"] for p in points] == [1.0]


def test_points_reduction_against_scale_zero() -> None:
    runs = [
        {"uptake_scale": 0.0, "total_infected": 100},
        {"uptake_scale": 0.0, "total_infected": 300},
        {"uptake_scale": 0.5, "total_infected": 150},
        {"uptake_scale": 0.5, "total_infected": 150},
    ]
    points = points_of(runs, [0.0, 0.5])
    assert points[1] == {"uptake_scale": 0.5, "mean_total_infected": 150.0, "reduction_pct": 25.0}
    assert points[0]["reduction_pct"] == pytest.approx(0.0)
