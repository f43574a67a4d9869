"""`tracewarn risk`: score exposure windows and validate risk configurations against test cases.

The CLI is the edge: it reads files and the clock ("today", for `ageInDays`) and hands plain
values to `tracewarn.protocol.risk`, which does neither.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracewarn.commands._common import BadInput, print_json, read_bytes, read_json

if TYPE_CHECKING:
    from tracewarn.protocol.risk import RiskCalculationConfig

risk_app = typer.Typer(
    help="Exposure-window risk scoring (Corona-Warn-App v2, generalised to N levels).",
    no_args_is_help=True,
)


class Preset(StrEnum):
    four_level = "four-level"
    cwa = "cwa-1.15"


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Configuration in CWA's camelCase JSON (or .toml); a CWA test-case file works too.",
    ),
]
PresetOption = Annotated[
    Preset,
    typer.Option(help="Shipped configuration used when --config is not given."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(risk_app, name="risk")


@risk_app.command("score")
def score(
    windows_file: Annotated[
        Path, typer.Argument(metavar="WINDOWS.json", help="Exposure windows (test-case shape).")
    ],
    config: ConfigOption = None,
    preset: PresetOption = Preset.four_level,
    as_json: JsonOption = False,
    today: Annotated[
        str | None,
        typer.Option(help="Day that ageInDays counts back from (YYYY-MM-DD); default: today, UTC."),
    ] = None,
) -> None:
    """Score exposure windows and explain the result."""
    from tracewarn.protocol.risk import exposure_windows_from_json, score_exposure_windows

    reference = _today(today)
    configuration = _load_config(config, preset)
    windows = exposure_windows_from_json(read_json(windows_file), today=reference)
    result = score_exposure_windows(windows, configuration)
    if as_json:
        print_json(result.to_json(reference) | {"explanation": result.explain(reference)})
    else:
        typer.echo(result.explain(reference))


@risk_app.command("check-cases")
def check_cases(
    cases_file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A file in CWA's test-case format.")
    ],
    as_json: JsonOption = False,
    rounding: Annotated[
        bool | None,
        typer.Option(
            "--rounding/--no-rounding",
            help="Force Android's per-day rounding on or off (default: the file's "
            "roundNormalizedTimePerDay, else on). CWA's older iOS file needs --no-rounding.",
        ),
    ] = None,
) -> None:
    """Run every case of a CWA test-case file against its own configuration; exit 0 only if all pass."""
    from tracewarn.protocol.risk import load_case_file, run_cases

    case_file = load_case_file(read_json(cases_file), round_per_day=rounding)
    outcomes = run_cases(case_file)
    passed = sum(outcome.passed for outcome in outcomes)
    if as_json:
        print_json(
            {
                "file": str(cases_file),
                "perDayRounding": case_file.config.round_per_day,
                "passed": passed,
                "failed": len(outcomes) - passed,
                "cases": [outcome.to_json() for outcome in outcomes],
            }
        )
    else:
        for outcome in outcomes:
            verdict = "PASS" if outcome.passed else "FAIL"
            typer.echo(f"{verdict}  [{outcome.index}] {outcome.description}")
            if outcome.error:
                typer.echo(f"        error: {outcome.error}")
            for diff in outcome.differences:
                typer.echo(f"        {diff.field}: expected {diff.expected}, got {diff.actual}")
        rounding_note = "on" if case_file.config.round_per_day else "off"
        typer.echo(f"{passed}/{len(outcomes)} cases passed (per-day rounding {rounding_note})")
    if passed != len(outcomes):
        raise typer.Exit(1)


@risk_app.command("show-config")
def show_config(
    config: ConfigOption = None,
    preset: PresetOption = Preset.four_level,
) -> None:
    """Validate a configuration (or show a shipped one) and print it in CWA's camelCase JSON."""
    print_json(_load_config(config, preset).to_json())


def _load_config(path: Path | None, preset: Preset) -> RiskCalculationConfig:
    from tracewarn.protocol.risk import CWA_1_15, FOUR_LEVEL_CONFIG, RiskCalculationConfig

    if path is None:
        return FOUR_LEVEL_CONFIG if preset is Preset.four_level else CWA_1_15
    if path.suffix.lower() == ".toml":
        try:
            text = read_bytes(path).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput(f"{path} is not UTF-8 text") from None
        return RiskCalculationConfig.from_toml(text)
    return RiskCalculationConfig.from_json(read_json(path))


def _today(value: str | None) -> dt.date:
    if value is None:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--today must be YYYY-MM-DD, got {value!r}") from None
