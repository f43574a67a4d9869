"""The demo's story in words: each person's verdict, and why there were false alarms.

Pure functions over the demo's JSON summary (no terminal, no plotting), shared by the terminal
table (`commands.demo`) and the timeline PNG (`sim.plot`), so both label a person the same way.

Verdicts compare the warning with the town's ground truth (`summary["ground_truth"]`):

| warning | really exposed | verdict |
|---|---|---|
| high | yes | `right` |
| high | no, but lives with the case | `housemate` (a household contact; warning them is right) |
| high | no | `false alarm` |
| low or none | yes | `missed` |
| low | no | `low only` (a low warning asks for nothing) |
| none | no | not shown |
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

__all__ = ["VERDICTS", "false_alarm_reason", "verdict"]

VERDICTS = ("right", "housemate", "false alarm", "missed", "low only")


def verdict(person: dict[str, Any]) -> str | None:
    """The person's verdict (see the module docstring); None when there is nothing to tell."""
    exposed = bool(person["truth"]["exposed"])
    level = person["level"]
    if level == "high":
        if exposed:
            return "right"
        return "housemate" if person["housemate_of_case"] else "false alarm"
    if exposed:
        return "missed"
    return "low only" if level != "none" else None


def false_alarm_reason(summary: dict[str, Any]) -> str | None:
    """One sentence on why the false alarms happened, from where and how long they met the case.

    The distance band comes from the demo's radio model and CWA 1.15's attenuation weights,
    which count 63-73 dB fully (more than closer contacts, 80 %): the reason most people in the
    same room for half an hour get a high warning.
    """
    alarms = [p for p in summary["people"] if verdict(p) == "false alarm"]
    if not alarms:
        return None
    settings = Counter(s for p in alarms for s in p["truth"]["settings"] if s != "home")
    where = ", ".join(f"{name} ({n})" for name, n in settings.most_common(3)) or "nowhere shared"
    minutes = [m for p in alarms for m in p["truth"]["nearby_minutes"].values()]
    typical = sorted(minutes)[len(minutes) // 2] if minutes else 0
    near, far = _distance_band()
    return (
        f"{len(alarms)} false alarm{'s' if len(alarms) != 1 else ''}: people near the case but "
        f"never within 2 m for 15 minutes, in the {where}; typically {typical} min a day. "
        f"CWA 1.15 weighs attenuations of 63-73 dB fully (closer ones 80 %), which in this "
        f"town's radio model is about {near:.0f}-{far:.0f} m, so half an hour in one room "
        "reaches the 9 risk-weighted minutes of a high warning."
    )


def _distance_band() -> tuple[float, float]:
    """Distances (m) at which a phone in a pocket sees 63 and 73 dB in the demo's radio model."""
    from tracewarn.sim.radio import CARRIAGE_OFFSETS_DB, RadioModel

    model = RadioModel()
    pocket = float(CARRIAGE_OFFSETS_DB[1])

    def distance(attenuation: float) -> float:
        exponent = (attenuation - model.a0_db - pocket) / (10 * model.path_loss_exponent)
        return float(math.pow(10.0, exponent))

    return distance(63.0), distance(73.0)
