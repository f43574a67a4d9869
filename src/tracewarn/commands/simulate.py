"""`tracewarn simulate run|sweep`: the population simulator (docs/simulator.md).

`run` plays one epidemic with the app and the same seed without it (infections averted per 1,000
warnings) and writes summary.json, epidemic.png and report.html; `sweep` runs every (uptake
scale, seed) pair on Dask distributed. With `--json` stdout's last line is one JSON object.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tracewarn.commands._common import BadInput

simulate_app = typer.Typer(
    help="Population simulator: an epidemic, the app's real risk logic, infections prevented.",
    no_args_is_help=True,
)

MAX_POPULATION = 10_000_000
MAX_DAYS = 365
PRESET_NAMES = ("openabm", "openabm-april2020", "tracewarn")

PopulationOption = Annotated[int, typer.Option("--population", help="People simulated.")]
DaysOption = Annotated[int, typer.Option("--days", help="Days simulated.")]
PresetOption = Annotated[
    str, typer.Option("--preset", help="Parameter set: openabm, openabm-april2020 or tracewarn.")
]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write JSON, PNG curves and report.html here.")
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object as the last line of stdout.")
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(simulate_app, name="simulate")


def _check(population: int, days: int, preset: str, seed: int) -> None:
    if not 100 <= population <= MAX_POPULATION:
        raise BadInput(f"--population must be 100..{MAX_POPULATION}, got {population}")
    if not 1 <= days <= MAX_DAYS:
        raise BadInput(f"--days must be 1..{MAX_DAYS}, got {days}")
    if preset not in PRESET_NAMES:
        raise BadInput(f"--preset must be one of {', '.join(PRESET_NAMES)}, got {preset!r}")
    if seed < 0:
        raise BadInput("--seed must be a non-negative integer")


def _check_scale(value: float, option: str) -> None:
    if not 0.0 <= value <= 10.0 or value != value:
        raise BadInput(f"{option} must be between 0 and 10, got {value}")


def _progress(description: str, quiet: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=quiet,
        transient=True,
    )


@simulate_app.command("run")
def run_command(
    population: PopulationOption = 10_000,
    days: DaysOption = 60,
    uptake: Annotated[
        float,
        typer.Option(
            "--uptake", help="Uptake scale: x the preset's by-age app-user fractions (0..1)."
        ),
    ] = 0.8,
    preset: PresetOption = "tracewarn",
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same run.")] = 1,
    out: OutOption = None,
    json_output: JsonOption = False,
    full_protocol: Annotated[
        bool,
        typer.Option(
            "--full-protocol",
            help="App users are real phones: TEKs, RPIs, uploads through the real server, "
            "published packages, on-device matching (at most 2,000 people).",
        ),
    ] = False,
) -> None:
    """One epidemic with the app, and the same seed without it."""
    _check(population, days, preset, seed)
    _check_scale(uptake, "--uptake")
    if full_protocol and population > 2_000:
        raise BadInput(f"--full-protocol runs at most 2,000 people, got --population {population}")
    from tracewarn.sim.epidemic import preset as make_preset
    from tracewarn.sim.epidemic import run_with_counterfactual

    params = make_preset(preset, population=population, days=days, seed=seed, uptake_scale=uptake)
    with _progress("simulating", quiet=False) as bar:
        task = bar.add_task(f"{population:,} people x {days} days", total=2 * days)
        summary = run_with_counterfactual(
            params,
            lambda done, total: bar.update(task, completed=done, total=total),
            full_protocol=full_protocol,
        )
    if out is not None:
        from tracewarn.sim.epidemic.report import write_run_report

        try:
            write_run_report(summary, out)
        except OSError as exc:
            raise BadInput(f"cannot write to {out}: {exc.strerror}") from None
    if json_output:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    _print_run(summary, out)


def _print_run(summary: dict[str, Any], out: Path | None) -> None:
    lines = [
        f"{summary['population']:,} people, {summary['days']} days, "
        f"uptake scale {summary['uptake_scale']} ({summary['app_users']:,} app users)",
        f"infected {summary['total_infected']:,} (without the app "
        f"{summary['counterfactual_total_infected']:,}), peak {summary['peak_infected']:,} "
        f"on day {summary['peak_day']}, deaths {summary['deaths']:,}",
        f"uploads {summary['uploads']:,}, people warned {summary['warnings']:,} "
        f"{summary['warnings_by_level']}, precision {summary['precision']}, "
        f"recall {summary['recall']}",
        f"quarantine person-days {summary['quarantine_person_days']:,} "
        f"(after warnings {summary['quarantine_person_days_warned']:,}); infections averted "
        f"per 1,000 warnings {summary['averted_per_1000_warnings']}",
        f"{summary['seconds']} s",
    ]
    if out is not None:
        lines.append(f"report: {out / 'report.html'}")
    typer.echo("\n".join(lines))


@simulate_app.command("sweep")
def sweep_command(
    uptake_scale: Annotated[
        str,
        typer.Option("--uptake-scale", help="Comma-separated uptake scales, e.g. 0,0.4,0.8."),
    ],
    seeds: Annotated[int, typer.Option("--seeds", help="Seeds per uptake scale.")],
    population: PopulationOption = 10_000,
    days: DaysOption = 60,
    preset: PresetOption = "tracewarn",
    workers: Annotated[int, typer.Option("--workers", help="Local Dask worker processes.")] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of an existing Dask scheduler (tcp://...)."),
    ] = None,
    out: OutOption = None,
    json_output: JsonOption = False,
) -> None:
    """Every (uptake scale, seed) pair on Dask distributed; reduction against scale 0."""
    _check(population, days, preset, 1)
    try:
        scales = [float(x) for x in uptake_scale.split(",") if x.strip()]
    except ValueError:
        raise BadInput(
            f"--uptake-scale must be numbers separated by commas, got {uptake_scale!r}"
        ) from None
    if not scales:
        raise BadInput("--uptake-scale needs at least one value")
    for s in scales:
        _check_scale(s, "--uptake-scale")
    if not 1 <= seeds <= 1000:
        raise BadInput(f"--seeds must be 1..1000, got {seeds}")
    if not 1 <= workers <= 64:
        raise BadInput(f"--workers must be 1..64, got {workers}")
    from tracewarn.sim.epidemic import preset as make_preset
    from tracewarn.sim.epidemic.sweep import sweep

    base = make_preset(preset, population=population, days=days)
    with _progress("sweep", quiet=False) as bar:
        task = bar.add_task("runs", total=None)
        try:
            points, runs = sweep(
                base,
                scales,
                seeds,
                workers=workers,
                scheduler=scheduler,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except OSError as exc:
            raise BadInput(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
    result = {"points": points, "runs": runs, "preset": preset, "population": population}
    if out is not None:
        from tracewarn.sim.epidemic.report import write_sweep_report

        try:
            write_sweep_report(result, out)
        except OSError as exc:
            raise BadInput(f"cannot write to {out}: {exc.strerror}") from None
    if json_output:
        sys.stdout.write(json.dumps({"points": points}) + "\n")
        return
    for p in points:
        typer.echo(
            f"uptake scale {p['uptake_scale']}: mean infected {p['mean_total_infected']:,}, "
            f"reduction {p['reduction_pct']} %"
        )
