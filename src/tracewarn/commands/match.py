"""`tracewarn match`: check key export files against a device's recorded sightings, by hand.

The CLI is the edge: it reads the files and the clock (the default `--now`) and hands bytes and
numbers to `tracewarn.protocol.matching`, which does neither. Exports are parsed and matched one
at a time, so a fortnight of national files never sits in memory as key objects; revised keys
in the exports replace the keys they revise, and a key in several exports (a day and its hours)
is matched once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracewarn.commands._common import BadInput, print_json, read_bytes

if TYPE_CHECKING:
    from tracewarn.protocol.gaen import ExportFile
    from tracewarn.protocol.matching import MatchResult


class OnsetMissing(StrEnum):
    none = "none"
    standard = "standard"
    high = "high"


class ObservationFormat(StrEnum):
    auto = "auto"
    jsonl = "jsonl"
    csv = "csv"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("match")(match)


def match(
    exports: Annotated[
        list[Path],
        typer.Argument(metavar="EXPORT...", help="Key export files (zip or bare export.bin)."),
    ],
    observations: Annotated[
        Path,
        typer.Option(
            "--observations",
            "-o",
            help="The device's sightings: JSON lines or CSV (format in docs/matching.md).",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    now: Annotated[
        str | None,
        typer.Option(
            help="Moment the 14-day retention counts back from (ISO 8601 with offset, or unix "
            "seconds); default: the current time."
        ),
    ] = None,
    onset_missing: Annotated[
        OnsetMissing,
        typer.Option(
            "--infectiousness-when-onset-missing",
            help="Infectiousness of keys without days since onset (CWA: none, so they are "
            "ignored; Google reference-server exports carry no onset).",
        ),
    ] = OnsetMissing.none,
    public_key: Annotated[
        Path | None,
        typer.Option(help="PEM public key: verify every export's signature before matching."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (1: match in this process).")
    ] = 1,
    observations_format: Annotated[
        ObservationFormat, typer.Option("--format", help="Observation file format.")
    ] = ObservationFormat.auto,
) -> None:
    """Match diagnosis keys from export files against recorded sightings (GAEN rules)."""
    from tracewarn.device.parallel_matching import ProcessMatcher
    from tracewarn.protocol.exposure_window import Infectiousness
    from tracewarn.protocol.matching import (
        MatchingConfig,
        load_observations,
        match_exports,
    )

    moment = _now(now)
    fmt = None if observations_format is ObservationFormat.auto else observations_format.value
    store = load_observations(read_bytes(observations), fmt)
    config = MatchingConfig(
        infectiousness_when_dsos_missing=Infectiousness[onset_missing.value.upper()]
    )
    files = _export_files(exports, public_key)
    if workers == 1:
        result = match_exports(files, store, now=moment, config=config)
    else:
        with ProcessMatcher(store, workers=workers, config=config) as matcher:
            result = match_exports(files, store, now=moment, config=config, scanner=matcher.scanner)
    if as_json:
        print_json(_as_json(result, moment, len(store)))
    else:
        typer.echo(_as_text(result, len(store), config.retention_days))


def _now(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(tz=dt.UTC)
    text = value.strip()
    if text.isdigit():
        try:
            return dt.datetime.fromtimestamp(int(text), tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise BadInput(f"--now {value!r} is out of range") from None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"--now {value!r} is neither ISO 8601 nor unix seconds") from None
    if moment.tzinfo is None:
        raise BadInput(f"--now {value!r} needs a UTC offset, e.g. 2020-04-03T00:00:00Z")
    return moment


def _export_files(exports: list[Path], public_key: Path | None) -> Iterator[bytes | ExportFile]:
    """Each export, read (and verified) only when the matcher gets to it.

    A verified export is passed on parsed, so the matcher does not parse it again.
    """
    from tracewarn.protocol.errors import CryptoFormatError
    from tracewarn.protocol.gaen import load_public_key, verify_export

    key = None
    if public_key is not None:
        try:
            key = load_public_key(read_bytes(public_key))
        except CryptoFormatError as exc:
            raise BadInput(f"{public_key}: {exc}") from None
    for path in exports:
        data = read_bytes(path)
        yield data if key is None else verify_export(data, key).export


def _as_json(result: MatchResult, moment: dt.datetime, sightings: int) -> dict[str, Any]:
    stats = {name: getattr(result.stats, name) for name in type(result.stats).__slots__}
    return {
        "now": moment.isoformat(),
        "sightings": sightings,
        "stats": stats,
        "matches": [m.to_json() for m in result.matches],
        # The shape `tracewarn risk score` reads.
        "exposureWindows": [
            {
                "date": w.date.isoformat(),
                "reportType": w.report_type,
                "infectiousness": w.infectiousness,
                "calibrationConfidence": w.calibration_confidence,
                "scanInstances": [
                    {
                        "minAttenuation": s.min_attenuation,
                        "typicalAttenuation": s.typical_attenuation,
                        "secondsSinceLastScan": s.seconds_since_last_scan,
                    }
                    for s in w.scan_instances
                ],
            }
            for w in result.exposure_windows()
        ],
    }


def _as_text(result: MatchResult, sightings: int, retention_days: int) -> str:
    stats = result.stats
    windows = result.exposure_windows()
    days = {m.date for m in result.matches}
    lines = [
        f"Matched {stats.matched_keys} of {stats.keys} keys against {sightings} sightings: "
        f"{stats.matched_sightings} sightings on {len(days)} day(s), "
        f"{len(windows)} exposure window(s).",
        f"Counted once: {stats.keys_duplicate} copies of keys published in more than one export "
        "(a daily package and its hours) were left out.",
        f"Not checked: {stats.keys_outside_retention} outside the {retention_days}-day "
        f"retention (see --now), {stats.keys_revoked} revoked, "
        f"{stats.keys_without_infectiousness} with infectiousness NONE (see "
        f"--infectiousness-when-onset-missing), {stats.keys_without_nearby_sightings} with no "
        "sighting within 2 h of their validity.",
    ]
    for m in result.matches:
        attenuation = min(s.min_attenuation for s in m.sightings)
        trl = "-" if m.transmission_risk_level is None else str(m.transmission_risk_level)
        lines.append(
            f"{m.date}  key {m.key_data.hex()[:12]}...  {m.report_type.name}  "
            f"{m.infectiousness.name}  TRL {trl}  {len(m.sightings)} sighting(s)  "
            f"{len(m.exposure_windows())} window(s)  min attenuation {attenuation} dB"
        )
    return "\n".join(lines)
