"""The exposure timeline PNG of the demo (matplotlib; the simulation core never imports this).

One row per person who met the case or shared a check-in place with them, on a real time axis
(UTC, the simulated days): dark blue while they were within 2 m of the case, light blue while
near but further, green while at the same check-in place (including the 30 minutes after the
case left), and at the right the warning their own phone raised. Input is the demo's JSON
summary, so a saved run can be redrawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_timeline"]

_LEVEL_COLOURS = {"high": "#c62828", "low": "#f9a825", "none": "#757575"}
_KIND_COLOURS = {"near": "#90caf9", "close": "#1565c0", "place": "#2e7d32"}
_KIND_LANES = {"near": (0.05, 0.5), "close": (0.05, 0.5), "place": (0.55, 0.35)}


def plot_timeline(summary: dict[str, Any], path: Path, *, max_rows: int = 60) -> Path:
    """Draw the exposure timeline of a demo summary into `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [p for p in summary["people"] if p["truth"]["intervals"] or p["level"] != "none"]
    rows.sort(key=lambda p: (-_rank(p["level"]), -p["truth"]["total_close_minutes"], p["label"]))
    rows = rows[:max_rows]
    days = summary["days"]
    fig, ax = plt.subplots(figsize=(12, max(3.0, 0.22 * len(rows) + 1.6)))
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
        source = f" ({person['source']})" if person["source"] else ""
        ax.text(
            days + 0.05,
            y,
            f"{person['level'].upper()}{source}",
            va="center",
            fontsize=7,
            color=_LEVEL_COLOURS.get(person["level"], "black"),
        )
    ax.set_yticks(range(len(rows)), [p["label"] for p in rows], fontsize=7)
    ax.set_xticks([d + 0.5 for d in range(days)], summary["dates"], fontsize=8)
    for d in range(days + 1):
        ax.axvline(d, color="#e0e0e0", linewidth=0.8, zorder=0)
    ax.set_xlim(0, days + 0.75)
    ax.set_ylim(len(rows) - 0.5 if rows else 0.5, -0.5)
    handles = [
        matplotlib.patches.Patch(color=colour, label=label)
        for colour, label in (
            (_KIND_COLOURS["close"], "within 2 m of the case"),
            (_KIND_COLOURS["near"], "near the case, further than 2 m"),
            (_KIND_COLOURS["place"], "same check-in place (up to 30 min after)"),
        )
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.45, -0.04), ncol=3, fontsize=7)
    case = summary["case"]
    ax.set_title(
        f"Exposure timeline around {case['label']} (seed {summary['seed']}); right: the "
        "warning each phone raised after its sync",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _rank(level: str) -> int:
    return {"high": 2, "low": 1}.get(level, 0)
