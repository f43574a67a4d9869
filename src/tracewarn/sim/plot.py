"""The exposure timeline PNG of the demo (matplotlib; the simulation core never imports this).

One row per person who met the case or shared a place with them: for each simulated day a bar
of minutes close (within 2 m), further away, and at a shared check-in place, and at the right
the warning the device raised. Input is the demo's JSON summary, so a saved run can be redrawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_timeline"]

_LEVEL_COLOURS = {"high": "#c62828", "low": "#f9a825", "none": "#9e9e9e"}


def plot_timeline(summary: dict[str, Any], path: Path, *, max_rows: int = 60) -> Path:
    """Draw the exposure timeline of a demo summary into `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [p for p in summary["people"] if p["truth"]["met_case"] or p["level"] != "none"]
    rows.sort(key=lambda p: (-_rank(p["level"]), -p["truth"]["total_close_minutes"], p["label"]))
    rows = rows[:max_rows]
    days = summary["days"]
    height = max(3.0, 0.22 * len(rows) + 1.5)
    fig, ax = plt.subplots(figsize=(10, height))
    width = 0.27
    for y, person in enumerate(rows):
        truth = person["truth"]
        for day in range(days):
            key = str(day)
            close = truth["close_minutes"].get(key, 0)
            nearby = truth["nearby_minutes"].get(key, 0) - close
            place = truth["place_minutes"].get(key, 0)
            scale = 1.0 / 240.0  # 4 hours fill a bar
            for k, (minutes, colour) in enumerate(
                ((close, "#1565c0"), (nearby, "#90caf9"), (place, "#2e7d32"))
            ):
                if minutes > 0:
                    ax.barh(
                        y,
                        min(minutes * scale, 1.0) * width,
                        left=day + k * width + 0.1,
                        height=0.7,
                        color=colour,
                    )
        ax.text(
            days + 0.05,
            y,
            person["level"].upper() + (f" ({person['source']})" if person["source"] else ""),
            va="center",
            fontsize=7,
            color=_LEVEL_COLOURS.get(person["level"], "black"),
        )
    ax.set_yticks(range(len(rows)), [p["label"] for p in rows], fontsize=7)
    ax.set_xticks([d + 0.5 for d in range(days)], summary["dates"], fontsize=8)
    ax.set_xlim(0, days + 1.7)
    ax.set_ylim(-1, max(len(rows), 1))
    ax.invert_yaxis()
    for d in range(1, days):
        ax.axvline(d, color="#e0e0e0", linewidth=0.8)
    ax.set_title(
        f"Exposure timeline around the case (seed {summary['seed']}): "
        "blue = within 2 m, light blue = further, green = same check-in place",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _rank(level: str) -> int:
    return {"high": 2, "low": 1}.get(level, 0)
