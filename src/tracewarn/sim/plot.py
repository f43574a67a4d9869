"""The exposure timeline PNG of the demo (matplotlib; the simulation core never imports this).

One row for every person who was warned or really exposed (all of them: the figure grows with
the town), on a real time axis (UTC; each simulated day labelled with its date, ticks every six
hours). The bars show what happened: dark blue while within 2 m of the case, light blue while
near but further, brown while at the same check-in place (including the 30 minutes after the
case left). At the right, the warning the person's own phone raised, coloured by level, and the
verdict against the ground truth in its own colour (`sim.story`): right, housemate, false
alarm, missed, low only. A reader sees the story without the table. Input is the demo's JSON
summary, so a saved run can be redrawn.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tracewarn.sim.story import VERDICTS, verdict

__all__ = ["plot_timeline"]

_LEVEL_COLOURS = {"high": "#c62828", "elevated": "#ef6c00", "low": "#f9a825", "none": "#757575"}
_VERDICT_COLOURS = {
    "right": "#2e7d32",
    "housemate": "#00838f",
    "false alarm": "#e65100",
    "missed": "#6a1b9a",
    "low only": "#757575",
}
_KIND_COLOURS = {"near": "#90caf9", "close": "#1565c0", "place": "#8d6e63"}
_KIND_LANES = {"near": (0.05, 0.5), "close": (0.05, 0.5), "place": (0.55, 0.35)}
_ORDER = {name: i for i, name in enumerate(("missed", "false alarm", "housemate", "right"))}


def plot_timeline(summary: dict[str, Any], path: Path) -> Path:
    """Draw the exposure timeline of a demo summary into `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = [p for p in summary["people"] if verdict(p) not in (None, "low only")]
    rows += [p for p in summary["people"] if verdict(p) == "low only"]
    rows.sort(key=lambda p: (_ORDER.get(verdict(p) or "", 9), p["label"]))
    days = int(summary["days"])
    right = days + 1.15  # room for the two text columns, inside the frame
    fig, ax = plt.subplots(figsize=(13, max(3.5, 0.2 * len(rows) + 2.2)))
    for y, person in enumerate(rows):
        for kind in ("near", "close", "place"):
            spans = [
                (start / 1440, max(end - start, 5) / 1440)
                for start, end, k in person["truth"]["intervals"]
                if k == kind
            ]
            if spans:
                lane, height = _KIND_LANES[kind]
                ax.broken_barh(spans, (y - 0.5 + lane, height), color=_KIND_COLOURS[kind])
        source = {"proximity": "near", "check-in": "place", "proximity+check-in": "near+place"}
        level = person["level"]
        text = level.upper() + (f" ({source.get(person['source'], '')})" if level != "none" else "")
        ax.text(days + 0.04, y, text, va="center", fontsize=7,
                color=_LEVEL_COLOURS.get(level, "black"), clip_on=True)  # fmt: skip
        judged = verdict(person) or ""
        ax.text(days + 0.62, y, judged, va="center", fontsize=7, fontweight="bold",
                color=_VERDICT_COLOURS.get(judged, "black"), clip_on=True)  # fmt: skip
    ax.set_yticks(range(len(rows)), [p["label"] for p in rows], fontsize=7)
    for label, person in zip(ax.get_yticklabels(), rows, strict=True):
        label.set_color(_VERDICT_COLOURS.get(verdict(person) or "", "black"))
    _time_axis(ax, summary["dates"], days)
    ax.axvline(days, color="#424242", linewidth=1.0)
    ax.set_xlim(0, right)
    ax.set_ylim(len(rows) - 0.5 if rows else 0.5, -0.5)
    counts = {name: sum(1 for p in rows if verdict(p) == name) for name in VERDICTS}
    handles = [
        Patch(color=_KIND_COLOURS["close"], label="within 2 m of the case"),
        Patch(color=_KIND_COLOURS["near"], label="near the case, further than 2 m"),
        Patch(color=_KIND_COLOURS["place"], label="same check-in place (up to 30 min after)"),
        *(
            Patch(color=_VERDICT_COLOURS[name], label=f"{name}: {counts[name]}")
            for name in VERDICTS
        ),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)
    case = summary["case"]
    ax.set_title(
        f"Everyone warned or exposed around {case['label']} ({len(rows)} people, seed "
        f"{summary['seed']}): what happened (bars), the warning each phone raised and the verdict",
        fontsize=9,
    )
    legend_rows = (len(handles) + 3) // 4
    fig.tight_layout(rect=(0, 0.012 * legend_rows + 0.3 / fig.get_figheight(), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _time_axis(ax: Any, dates: list[str], days: int) -> None:
    """Days labelled with weekday and date at midnight, hours 06/12/18 between."""
    labels = []
    for text in dates[:days]:
        day = dt.date.fromisoformat(text)
        labels.append(f"{day:%a} {day.day} {day:%b}\n00:00")
    ax.set_xticks(range(days), labels, fontsize=7)
    minor = [d + h / 24 for d in range(days) for h in (6, 12, 18)]
    ax.set_xticks(minor, [f"{h:02d}:00" for _ in range(days) for h in (6, 12, 18)], minor=True)
    ax.tick_params(axis="x", which="minor", labelsize=6, colors="#616161")
    for d in range(days + 1):
        ax.axvline(d, color="#bdbdbd", linewidth=0.8, zorder=0)
    for x in minor:
        ax.axvline(x, color="#eeeeee", linewidth=0.6, zorder=0)
    ax.set_xlabel("UTC (the simulated days); right of the dark line: warning after sync, verdict")
