"""What a warning says: level, advice and explanation from one place, per source.

A warning has a level (on the configuration's scale), a source (`proximity`, `check-in` or
both, `proximity+check-in`) and two texts. All three must tell the same story: a check-in
warning may not explain itself with "You were near someone" or with the proximity risk's own
lower level. So both texts are built here from the same (level, source) pair: the first line of
the explanation states the warning's level, the next says where it comes from, and only then
does the proximity detail (`RiskResult.explain`, CWA's "why is my status this colour") follow,
labelled as the proximity part when check-ins decided the level.

Advice follows the two cases of Corona-Warn-App's risk card (increased risk, low risk): a level
CWA would show as HIGH (on the four-level scale: `elevated` and `high`, which hold exactly when
CWA says HIGH, see `tracewarn.protocol.risk.presets`) asks the user to act; a lower rated level
asks them to watch for symptoms.
"""

from __future__ import annotations

import datetime as dt

from tracewarn.protocol.risk import RiskLevelScale, RiskResult

__all__ = ["FAILED_ADVICE", "SOURCES", "advice_for", "explanation_for", "is_increased"]

SOURCES = ("proximity", "check-in", "proximity+check-in")

_WHAT = {
    "proximity": "you were near someone who later tested positive",
    "check-in": "you were checked in at a place at the same time as someone who later tested "
    "positive",
    "proximity+check-in": "you were near someone who later tested positive, and checked in at a "
    "place at the same time as someone who later tested positive",
}
_NONE = "No encounters with increased risk so far. Keep the app running."
FAILED_ADVICE = "The risk could not be calculated. Please sync again later."


def is_increased(level: int, scale: RiskLevelScale) -> bool:
    """True for the levels CWA would show as HIGH (act now), False for lower ones (watch)."""
    name = scale.name(level).lower()
    if name in ("high", "elevated"):
        return True
    if name in ("none", "low"):
        return False
    return level == scale.highest


def advice_for(level: int | None, source: str, scale: RiskLevelScale) -> str:
    """The advice for a warning of `level` (None: no warning) coming from `source`."""
    if level is None:
        return _NONE
    what = _WHAT[source]
    if is_increased(level, scale):
        return (
            f"{what[0].upper()}{what[1:]}, for long enough and close enough to matter. Please "
            "stay at home if you can, avoid meeting people at higher risk, get tested, and "
            "follow your health authority's advice, up to 14 days after the encounter."
        )
    return (
        f"{what[0].upper()}{what[1:]}, but with low risk. There is nothing you need to do now; "
        "keep to the usual rules and watch for symptoms."
    )


def explanation_for(
    level: int,
    source: str,
    date: dt.date | None,
    scale: RiskLevelScale,
    proximity: RiskResult,
    check_in_level: int | None,
    today: dt.date,
) -> str:
    """Why the warning has `level`: the level first, then its source, then the detail."""
    name = scale.name(level)
    ladder = " < ".join(scale.names)
    lines = [f"Your risk level: {name} ({level + 1} of {len(scale)}: {ladder})."]
    on = f" on {date.isoformat()}" if date is not None else ""
    lines.append(f"It comes from {source.replace('+', ' and ')}: {_WHAT[source]}{on}.")
    detail = proximity.explain(today).splitlines()[1:]
    if "proximity" in source:
        lines.extend(detail)
        return "\n".join(lines)
    if check_in_level is not None:
        lines.append(f"Your check-ins alone give the level {scale.name(check_in_level)!r}.")
    if proximity.rated_days:
        lines.append(
            f"Encounters near other phones alone give the lower level {proximity.level_name!r}:"
        )
        lines.extend(detail)
    else:
        lines.append("No encounter near another phone counts towards a risk level.")
    return "\n".join(lines)
