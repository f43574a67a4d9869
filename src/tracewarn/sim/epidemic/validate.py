"""The validation figures of docs/simulator.md, printed as Markdown tables.

    .venv/bin/python -m tracewarn.sim.epidemic.validate [--population 50000] [--days 60] [--seeds 3]
        [--only ferretti|openabm|tracewarn]
        [--only ferretti|openabm|tracewarn]

1. Ferretti et al. 2020: minimum eps_T for R <= 1 from the renewal operator, and the stochastic
   branching simulation's R just below and above each check point.
2. OpenABM-Covid19 preset: infections against the uptake scale (paired seeds), and app users'
   onward infections against non-users'.
3. tracewarn preset: warnings per upload, precision, recall, infections averted per 1,000 warnings.
"""

from __future__ import annotations

import argparse
import sys
import time
from statistics import mean
from typing import Any

from tracewarn.sim.epidemic.params import preset
from tracewarn.sim.epidemic.renewal import boundary, branching_r
from tracewarn.sim.epidemic.runner import run, run_with_counterfactual

PUBLISHED = {0.5: 0.57, 0.6: 0.52, 0.7: 0.46, 0.8: 0.39, 1.0: 0.22}
DELAYS = (0.0, 0.5, 1.0, 2.0, 3.0)


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def ferretti() -> None:
    _out("### Ferretti et al. 2020: minimum eps_T for R <= 1 (R0 = 2)\n")
    _out("| eps_I | " + " | ".join(f"delay {d:g} d" for d in DELAYS) + " | published (delay 0) |")
    _out("|---|" + "---|" * (len(DELAYS) + 1))
    for eps_i in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        cells = []
        for d in DELAYS:
            b = boundary(eps_i, d)
            cells.append("none" if b is None else f"{b:.3f}")
        _out(f"| {eps_i} | " + " | ".join(cells) + f" | {PUBLISHED.get(eps_i, '-')} |")
    _out("\nBranching simulation (30,000 people per generation, generations 3-6):\n")
    _out("| eps_I | published eps_T | R at eps_T - 0.05 | R at eps_T | R at eps_T + 0.05 |")
    _out("|---|---|---|---|---|")
    for eps_i, eps_t in PUBLISHED.items():
        rs = [branching_r(eps_i, eps_t + k, 0.0, people=30_000) for k in (-0.05, 0.0, 0.05)]
        _out(f"| {eps_i} | {eps_t} | " + " | ".join(f"{r:.3f}" for r in rs) + " |")


def _runs(name: str, scale: float, population: int, days: int, seeds: int) -> list[dict[str, Any]]:
    # One seed infection per 1,000 people: near the threshold a handful of seeds mostly decide
    # whether the epidemic dies out, which would drown the app's effect in extinction noise.
    seeding = max(10, population // 1000)
    return [
        run(
            preset(
                name,
                population=population,
                days=days,
                seed=s,
                uptake_scale=scale,
                n_seed_infection=seeding,
            )
        )
        for s in range(1, seeds + 1)
    ]


def openabm(population: int, days: int, seeds: int) -> None:
    _out(
        f"\n### OpenABM preset: {population:,} people, {days} days, {seeds} seeds per point, "
        f"{max(10, population // 1000)} seed infections\n"
    )
    _out(
        "| uptake scale | app users | mean infected | reduction | deaths | onward (app users) "
        "| onward (non-users) | warnings per upload |"
    )
    _out("|---|---|---|---|---|---|---|---|")
    base = None
    for scale in (0.0, 0.25, 0.5, 0.75, 1.0):
        runs = _runs("openabm", scale, population, days, seeds)
        infected = mean(r["total_infected"] for r in runs)
        base = infected if base is None else base
        reduction = 100 * (base - infected) / base if base else 0.0
        app = [r["onward_infections_app_users"] for r in runs if r["onward_infections_app_users"]]
        non = [r["onward_infections_non_users"] for r in runs if r["onward_infections_non_users"]]
        per = [r["warnings_per_upload"] for r in runs if r["warnings_per_upload"]]
        _out(
            f"| {scale} | {mean(r['app_users'] for r in runs) / population:.1%} | {infected:,.0f} "
            f"| {reduction:.1f} % | {mean(r['deaths'] for r in runs):.1f} "
            f"| {mean(app) if app else 0:.2f} | {mean(non) if non else 0:.2f} "
            f"| {mean(per) if per else 0:.1f} |"
        )


def tracewarn(population: int, days: int, seeds: int) -> None:
    _out(f"\n### tracewarn preset, uptake scale 0.8: {population:,} people, {days} days\n")
    _out(
        "| seed | infected | without app | uploads | warned | per upload | precision | recall "
        "| averted per 1,000 warnings |"
    )
    _out("|---|---|---|---|---|---|---|---|---|")
    for seed in range(1, seeds + 1):
        r = run_with_counterfactual(
            preset("tracewarn", population=population, days=days, seed=seed)
        )
        _out(
            f"| {seed} | {r['total_infected']:,} | {r['counterfactual_total_infected']:,} "
            f"| {r['uploads']:,} | {r['warnings']:,} | {r['warnings_per_upload']} "
            f"| {r['precision']} | {r['recall']} | {r['averted_per_1000_warnings']} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Print the simulator's validation figures.")
    parser.add_argument("--population", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    started = time.perf_counter()
    parser.add_argument("--only", choices=("ferretti", "openabm", "tracewarn"))
    args = parser.parse_args()
    if args.only in (None, "ferretti"):
        ferretti()
    if args.only in (None, "openabm"):
        openabm(args.population, args.days, args.seeds)
    if args.only in (None, "tracewarn"):
        tracewarn(args.population, args.days, args.seeds)
    _out(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
