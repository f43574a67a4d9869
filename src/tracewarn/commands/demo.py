"""`tracewarn demo`: the town demo; `tracewarn showcase`: the one-key protocol walk-through.

The demo starts the real backend on SQLite in a temporary directory on a free loopback port,
lives a small town for a few days with one virtual phone per person, lets one person test
positive and report, publishes, syncs every phone, and shows who was warned and why against the
town's ground truth. This module is the edge: it owns the terminal output and the files.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from tracewarn.commands._common import BadInput

MAX_DEVICES = 5000
MAX_REGIONS = 5
MAX_DAYS = 13  # keys are kept 14 days, and the report happens the day after the last one


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("demo")(demo)
    app.command("showcase", hidden=True)(showcase)


def showcase() -> None:
    """Walk one key through the protocol: derive, publish signed, download, verify, match."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from tracewarn.commands._showcase import run_showcase

    result = run_showcase(
        now=int(time.time()),
        random_bytes=os.urandom,
        signing_key=ec.generate_private_key(ec.SECP256R1()),
        echo=typer.echo,
    )
    if not (result.key_found and result.tampered_rejected):
        raise typer.Exit(1)


def demo(
    seed: Annotated[
        int, typer.Option(help="Seed of the town; the same seed gives the same run.")
    ] = 1,
    devices: Annotated[int, typer.Option(help="People in the town, one phone each.")] = 200,
    days: Annotated[int, typer.Option(help="Days lived before the positive test.")] = 5,
    out: Annotated[
        Path, typer.Option(help="Directory for summary.json, timeline.png and server.log.")
    ] = Path("tracewarn-demo"),
    regions: Annotated[
        int,
        typer.Option(
            help="Regions, each with its own backend, federated through a gateway (1 = none)."
        ),
    ] = 1,
    workdir: Annotated[
        Path | None,
        typer.Option(
            help="Keep the server's and phones' files here instead of a temp dir.", hidden=True
        ),
    ] = None,
) -> None:
    """A town, a positive test, the right warnings: the whole system end to end in seconds."""
    if not 2 <= devices <= MAX_DEVICES:
        raise BadInput(f"--devices must be 2..{MAX_DEVICES}, got {devices}")
    if not 1 <= days <= MAX_DAYS:
        raise BadInput(f"--days must be 1..{MAX_DAYS}, got {days}")
    if seed < 0:
        raise BadInput("--seed must be a non-negative integer")
    if not 1 <= regions <= MAX_REGIONS:
        raise BadInput(f"--regions must be 1..{MAX_REGIONS}, got {regions}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create {out}: {exc.strerror}") from None

    from rich.console import Console

    console = Console()
    started = time.perf_counter()
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        summary = _run(console, seed, devices, days, out, workdir, regions)
    else:
        with tempfile.TemporaryDirectory(prefix="tracewarn-demo-") as tmp:
            summary = _run(console, seed, devices, days, out, Path(tmp), regions)
    elapsed = time.perf_counter() - started

    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    from tracewarn.sim.plot import plot_timeline

    plot_timeline(summary, out / "timeline.png")
    _show(console, summary)
    console.print(
        f"Wrote {out / 'summary.json'}, {out / 'timeline.png'} and {out / 'server.log'} "
        f"in {elapsed:.1f} s."
    )


def _run(
    console: Any, seed: int, devices: int, days: int, out: Path, work: Path, regions: int = 1
) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tracewarn.sim._server import demo_backend
    from tracewarn.sim.demo import DemoConfig, demo_clock, run_demo

    config = DemoConfig(seed=seed, devices=devices, days=days)
    clock = demo_clock(config)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done)

        if regions == 1:
            with demo_backend(
                work / "server", clock, loopback=True, log_path=out / "server.log"
            ) as backend:
                console.print(f"Backend on {backend.url} (SQLite in a temporary directory).")
                return run_demo(config, backend, clock, work, update)
        from tracewarn.sim.regions import demo_regions

        with contextlib.ExitStack() as stack:
            fed = stack.enter_context(demo_regions(work, clock, regions))
            backend = stack.enter_context(
                demo_backend(
                    work / "server",
                    clock,
                    loopback=True,
                    log_path=out / "server.log",
                    **fed.settings_for(fed.town),
                )
            )
            fed.backends[fed.town] = backend
            console.print(
                f"Gateway on {fed.gateway_url}; backends "
                + ", ".join(f"{c} on {b.url}" for c, b in sorted(fed.backends.items()))
                + f" (the town is {fed.town})."
            )
            return run_demo(config, backend, clock, work, update, regions=fed)


def _show(console: Any, summary: dict[str, Any]) -> None:
    from rich import box
    from rich.table import Table

    from tracewarn.sim.story import false_alarm_reason, verdict

    case = summary["case"]
    console.print(
        f"\n[bold]{case['label']}[/] ({case['role']}) tested positive after "
        f"{summary['days']} days; symptoms since {case['symptom_onset']}. Their phone uploaded "
        f"{case['uploaded_keys']} keys and {case['uploaded_check_ins']} check-ins with a TAN."
    )
    # Five short columns fit 80 characters (and a pipe) on one line per person; every detail
    # is in summary.json.
    table = Table(
        title="Who was warned, and why", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False
    )
    for column in ("person", "warning", "day", "what really happened", "verdict"):
        table.add_column(column, no_wrap=True)
    rows = [p for p in summary["people"] if verdict(p) is not None]
    order = ("missed", "false alarm", "housemate", "right", "low only")
    per_verdict = 6  # a few of each kind; the rest are counted
    for name in order:
        group = sorted((p for p in rows if verdict(p) == name), key=lambda p: p["label"])
        for person in group[:per_verdict]:
            table.add_row(
                person["label"],
                _warning(person),
                (person["date"] or "")[5:],
                _truth(person["truth"], person["housemate_of_case"]),
                name,
            )
        if len(group) > per_verdict:
            table.add_row("", "", "", f"... {len(group) - per_verdict} more", name)
    console.print(table)
    console.print("Everyone, with every detail: summary.json and timeline.png.")
    reason = false_alarm_reason(summary)
    if reason is not None:
        console.print(reason)
    levels = summary["levels"]
    console.print(
        f"Warnings: {levels['high']} high, {levels['low']} low, {levels['none']} none "
        f"(of {summary['devices'] - 1} phones besides the case's)."
    )
    truth = summary["ground_truth"]
    for name, label in (("high", "high warnings"), ("any_warning", "any warning")):
        m = summary["metrics"][name]
        console.print(
            f"{label}: precision {_pct(m['precision'])}, recall {_pct(m['recall'])} "
            f"(TP {m['true_positives']}, FP {m['false_positives']}, FN {m['false_negatives']}) "
            f"against {truth['exposed']} people really exposed ({truth['definition']})."
        )
    federation = summary.get("regions")
    if federation is not None:
        warning = federation.get("cross_region_warning")
        moved = federation.get("batches_exchanged", {})
        console.print(
            f"Regions {', '.join(federation['regions'])}: {moved.get('keys_shared', 0)} keys in "
            f"{moved.get('uploaded', 0)} signed batch(es) to the gateway, "
            f"{moved.get('download_batches', 0)} download batch(es), verified and imported by "
            f"{moved.get('imported_with_keys', 0)} other region(s)."
        )
        if warning is not None:
            console.print(
                f"{warning['person']} lives in {warning['home_region']} and commutes to "
                f"{warning['exposed_in']}; their phone synced only from {warning['synced_from']}'s "
                f"backend and got a {_coloured(warning['level'])} warning."
            )
    traffic = summary["traffic"]
    console.print(
        f"Traffic: {traffic['observations']} Bluetooth sightings, {traffic['fake_uploads']} fake "
        f"uploads, {traffic['key_packages_published']} key and "
        f"{traffic['warning_packages_published']} warning packages published."
    )


def _coloured(level: str) -> str:
    colour = {"high": "red", "low": "yellow"}.get(level, "green")
    return f"[{colour}]{level}[/]"


def _warning(person: dict[str, Any]) -> str:
    level = person["level"]
    if level == "none":
        return _coloured(level)
    source = {"proximity": "near", "check-in": "place", "proximity+check-in": "near+place"}
    return f"{_coloured(level)} {source.get(person['source'], person['source'])}".rstrip()


def _truth(truth: dict[str, Any], housemate: bool) -> str:
    parts = []
    if truth["close"]:
        parts.append(f"{truth['total_close_minutes']} min <2 m")
    if truth["shared_place"]:
        parts.append(f"{sum(truth['place_minutes'].values())} min same place")
    if not parts and truth["met_case"]:
        settings = [s for s in truth["settings"] if s != "home"] or truth["settings"]
        parts.append("near: " + ", ".join(settings))
    text = "; ".join(parts) or "never met"
    return f"{text} (home)" if housemate else text


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"
