"""Plain-language explanation of a risk result, for a device to show its user.

Answers the two questions CWA users asked most (CWA FAQ [docs/specifications.md#cwa-faq]):
"when was my encounter?" (the UTC day; exposure notification never records a time of day or a
place) and "why is my status green although I had low-risk encounters?" (each day's encounters
are added up, and the sum stayed below the next threshold). English only; the structure (one
short paragraph per question, then a line per day) is what a translation would keep.
"""

from __future__ import annotations

import datetime as dt

from tracewarn.protocol.risk.levels import Range
from tracewarn.protocol.risk.result import DayRisk, RiskResult

__all__ = ["describe_day", "explain_risk"]

_MAX_DAY_LINES = 14
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def explain_risk(result: RiskResult, today: dt.date) -> str:
    """The explanation of `result` as seen on `today` (dates are also given as "N days ago")."""
    scale = result.scale
    name = result.level_name
    lines = [f"Your risk level: {name} ({result.level + 1} of {len(scale)}: {_ladder(result)})."]
    rated = result.rated_days
    unrated = [day for day in result.days if day.level is None]
    encounters = sum(result.distinct_encounters)

    if not rated:
        lines.append(
            "No day had encounters adding up to a risk level, so there is nothing you need to do."
        )
        if unrated:
            lines.append(_unrated_sentence(unrated, today))
        return "\n".join(lines)

    latest = rated[0]
    lines.append(
        f"Your most recent day with an encounter that counts was {_when(latest.date, today)}. "
        "Exposure notification only records the day of an encounter (in UTC), never the time "
        "of day or the place, so this app cannot tell you more."
    )
    if result.level < scale.highest:
        lines.append(_why_not_higher(result, encounters))
    else:
        lines.append(
            f"On {_when(_most_recent(result, result.level), today)} your encounters added up to "
            f"{_minutes(_max_time(result, result.level))} risk-weighted minutes, which reaches the "
            f"{name!r} threshold ({_threshold(result, result.level)})."
        )
    lines.append(
        "Risk-weighted minutes are minutes spent near another phone, weighted by how close the "
        "signal suggests it was and by how likely the other person was to be infectious."
    )
    lines.append("Per day:")
    lines.extend(f"- {describe_day(result, day, today)}" for day in result.days[:_MAX_DAY_LINES])
    if len(result.days) > _MAX_DAY_LINES:
        lines.append(f"- … and {len(result.days) - _MAX_DAY_LINES} earlier days")
    return "\n".join(lines)


def describe_day(result: RiskResult, day: DayRisk, today: dt.date) -> str:
    """One line about one day: its level, how many encounters, and its risk-weighted minutes."""
    counted = sum(day.distinct_encounters)
    when = _when(day.date, today)
    if day.level is None:
        if not day.counted_windows:
            return f"{when}: only very brief or distant sightings; they do not count."
        return (
            f"{when}: {_encounters(counted)} adding up to {_minutes(day.normalized_time)} "
            "risk-weighted minutes, too little for any risk level."
        )
    return (
        f"{when}: {result.scale.name(day.level)}, {_encounters(counted)} adding up to "
        f"{_minutes(day.normalized_time)} risk-weighted minutes."
    )


def _why_not_higher(result: RiskResult, encounters: int) -> str:
    next_level = result.level + 1
    days = len(result.rated_days)
    return (
        f"You had {_encounters(encounters)} with people who later warned others through the app, "
        f"on {days} day{'s' if days != 1 else ''}. "
        f"Your level is {result.level_name!r} and not {result.scale.name(next_level)!r} because "
        f"on no single day did they add up to the {result.scale.name(next_level)!r} threshold "
        f"({_threshold(result, next_level)}); your highest day had "
        f"{_minutes(_max_time(result, result.level))} risk-weighted minutes. Encounters that "
        "were short, far away or with people unlikely to be infectious count for less."
    )


def _ladder(result: RiskResult) -> str:
    return " < ".join(result.scale.names)


def _threshold(result: RiskResult, level: int) -> str:
    rng: Range | None = result.day_levels.threshold_for(level)
    if rng is None:
        return "not reachable with this configuration"
    sign = "more than" if rng.min_exclusive else "at least"
    return f"{sign} {_minutes(rng.min)} risk-weighted minutes on one day"


def _max_time(result: RiskResult, level: int) -> float:
    return max((d.normalized_time for d in result.rated_days if d.level == level), default=0.0)


def _most_recent(result: RiskResult, level: int) -> dt.date:
    date = result.most_recent_dates[level]
    assert date is not None  # the result's level is the level of some rated day
    return date


def _unrated_sentence(days: list[DayRisk], today: dt.date) -> str:
    latest = days[0].date
    count = len(days)
    return (
        f"There were brief or distant sightings on {count} day{'s' if count != 1 else ''} "
        f"(most recently {_when(latest, today)}), too little to count as a risk."
    )


def _when(date: dt.date, today: dt.date) -> str:
    age = (today - date).days
    ago = {0: "today", 1: "yesterday"}.get(age, f"{age} days ago" if age > 1 else "in the future")
    # Fixed English names: strftime would follow the process locale, which pure code must not read.
    return f"{_WEEKDAYS[date.weekday()]} {date.day} {_MONTHS[date.month - 1]} {date.year} ({ago})"


def _encounters(count: int) -> str:
    return f"{count} encounter{'s' if count != 1 else ''}"


def _minutes(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
