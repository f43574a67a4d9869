"""Population simulator at region scale against Covasim's testing-and-tracing run, in one process.

Figures: `tracewarn.sim.epidemic` with 1,000,000 people x 60 days, preset `tracewarn` (testing
with delays, symptom isolation, household quarantine on positives, the app with uploads, radio
model, real risk scoring and warned quarantine), single process: wall time (build + run) and the
process's peak resident memory at the end of that run (measured before Covasim is imported, so
Covasim's memory is not counted). Then, as the baseline in the same run, classic Covasim 3.1.6
(`pip install -e '.[bench]'`) with the same size and days and its testing-and-tracing
interventions `test_prob(symp_prob=0.2, asymp_prob=0.001)` + `contact_tracing(trace_probs=0.5,
trace_time=1)` (the scenario of the project's performance notes). Ratio = Covasim / tracewarn.
Targets: >= 4x faster than Covasim's tracing run, <= 1.5 GB peak. Usage:
    .venv/bin/python bench/simulate.py [--population 1000000] [--days 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from tracewarn.sim.epidemic import preset, run


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def covasim_seconds(population: int, days: int, seed: int) -> tuple[float, int]:
    import covasim as cv

    start = time.perf_counter()
    sim = cv.Sim(
        pop_size=population,
        n_days=days,
        rand_seed=seed,
        verbose=0,
        interventions=[
            cv.test_prob(symp_prob=0.2, asymp_prob=0.001),
            cv.contact_tracing(trace_probs=0.5, trace_time=1),
        ],
    )
    sim.run()
    return time.perf_counter() - start, int(sim.results["cum_infections"][-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    params = preset("tracewarn", population=args.population, days=args.days, seed=args.seed)
    summary = run(params)
    seconds = summary["seconds"]
    rss = peak_rss_mb()
    print(
        f"tracewarn: {args.population:,} people x {args.days} days in {seconds:.1f} s, "
        f"peak RSS {rss:.0f} MB; infected {summary['total_infected']:,}, "
        f"uploads {summary['uploads']:,}, warned {summary['warnings']:,}, "
        f"exposure windows {summary['exposure_windows']:,}"
    )
    baseline, cv_infected = covasim_seconds(args.population, args.days, args.seed)
    ratio = baseline / seconds
    print(
        f"covasim 3.1.6 testing + tracing: {baseline:.1f} s (infected {cv_infected:,}); "
        f"tracewarn is {ratio:.1f}x faster (target >= 4x, <= 1500 MB)"
    )
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "peak_rss_mb": round(rss, 1),
                "baseline_seconds": round(baseline, 2),
                "ratio_vs_covasim": round(ratio, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
