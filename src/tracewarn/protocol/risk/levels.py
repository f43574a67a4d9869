"""Generic N-level risk building blocks: ranges, level scales, range-to-level mappings, combination.

Theory of operation (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): Corona-Warn-App maps a
number (normalized time) to a risk level with a list of `Range -> level` entries, first match
wins, and a value no range contains has no level at all. It knows two levels, LOW and HIGH. Here a
`RiskLevelScale` names any number of ordered levels (index 0 is the lowest, "no increased risk");
with two levels it is CWA's LOW/HIGH. A `LevelMapping` is validated when it is built, so an
overlapping, unordered or non-monotone table is a `ConfigurationError` at load time, never a
surprise at scoring time. `combine_levels` generalises CWA's RiskCombinator (failed beats
increased beats low) to "failed beats the maximum level". Exposure-window scoring and check-in
(presence tracing) scoring both build on these; keep the names stable.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from tracewarn.protocol.errors import ConfigurationError

__all__ = [
    "CALCULATION_FAILED",
    "CWA_SCALE",
    "LevelMapping",
    "Range",
    "RiskFailure",
    "RiskLevelScale",
    "combine_day_levels",
    "combine_levels",
]


@dataclass(frozen=True, slots=True)
class Range:
    """CWA `Range {min, max, minExclusive, maxExclusive}`: a closed interval unless a bound is exclusive.

    CWA risk calculation v2 [docs/specifications.md#cwa-risk]: v is contained iff `(min < v or (not minExclusive and v == min)) and
    (v < max or (not maxExclusive and v == max))`. A range whose min lies above its max is
    rejected here, because it can never contain anything and is always a typo.
    """

    min: float = 0.0
    max: float = 0.0
    min_exclusive: bool = False
    max_exclusive: bool = False

    def __post_init__(self) -> None:
        for name in ("min", "max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigurationError(f"range {name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ConfigurationError(f"range {name} must be finite, got {value!r}")
        for name in ("min_exclusive", "max_exclusive"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(f"range {name} must be true or false")
        if self.min > self.max:
            raise ConfigurationError(f"range {self} is unordered: min {self.min} > max {self.max}")

    def __contains__(self, value: float) -> bool:
        above_min = self.min < value or (not self.min_exclusive and value == self.min)
        below_max = value < self.max or (not self.max_exclusive and value == self.max)
        return above_min and below_max

    def contains(self, value: float) -> bool:
        """Whether `value` lies in this range (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""
        return value in self

    @property
    def is_empty(self) -> bool:
        """True for a degenerate range like `(5, 5]` that contains no value."""
        return self.min == self.max and (self.min_exclusive or self.max_exclusive)

    def __str__(self) -> str:
        left = "(" if self.min_exclusive else "["
        right = ")" if self.max_exclusive else "]"
        return f"{left}{_number(self.min)}, {_number(self.max)}{right}"

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "range") -> Range:
        """Parse CWA's camelCase JSON form; missing numbers are 0 and missing flags false (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""
        if not isinstance(obj, Mapping):
            raise ConfigurationError(f"{where}: expected an object with min/max, got {obj!r}")
        unknown = set(obj) - {"min", "max", "minExclusive", "maxExclusive"}
        if unknown:
            raise ConfigurationError(f"{where}: unknown range keys {sorted(unknown)}")
        try:
            return cls(
                min=obj.get("min", 0),
                max=obj.get("max", 0),
                min_exclusive=obj.get("minExclusive", False),
                max_exclusive=obj.get("maxExclusive", False),
            )
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"min": _number(self.min), "max": _number(self.max)}
        if self.min_exclusive:
            out["minExclusive"] = True
        if self.max_exclusive:
            out["maxExclusive"] = True
        return out


def _number(value: float) -> float | int:
    """Print 9.0 as 9 so configurations round-trip in CWA's own spelling."""
    return int(value) if float(value).is_integer() else value


@dataclass(frozen=True, slots=True)
class RiskLevelScale:
    """Ordered level names, lowest first; level i is `names[i]`, level 0 means "no increased risk".

    Two levels (`CWA_SCALE`) are Corona-Warn-App's LOW and HIGH.
    """

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.names) < 2:
            raise ConfigurationError("a risk level scale needs at least two levels")
        if any(not isinstance(n, str) or not n.strip() for n in self.names):
            raise ConfigurationError("risk level names must be non-empty strings")
        if len({n.lower() for n in self.names}) != len(self.names):
            raise ConfigurationError(f"risk level names must be distinct: {list(self.names)}")

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.names)))

    @property
    def lowest(self) -> int:
        return 0

    @property
    def highest(self) -> int:
        return len(self.names) - 1

    def name(self, level: int) -> str:
        """The configured name of a level."""
        self.check(level)
        return self.names[level]

    def level(self, name: str) -> int:
        """The level with this name (case-insensitive)."""
        for index, candidate in enumerate(self.names):
            if candidate.lower() == name.lower():
                return index
        raise ConfigurationError(f"unknown risk level {name!r}; levels are {list(self.names)}")

    def level_from_json(self, value: Any, where: str) -> int:
        """A `riskLevel` of CWA's JSON: the proto enum number (1 = lowest) or a level name."""
        if isinstance(value, str):
            try:
                return self.level(value)
            except ConfigurationError as exc:
                raise ConfigurationError(f"{where}: {exc}") from None
        # CWA's proto enum: 0 UNSPECIFIED, 1 LOW, 2 HIGH; so JSON number n is level index n - 1.
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(self):
            return value - 1
        raise ConfigurationError(
            f"{where}: {value!r} is not a risk level; use 1..{len(self)} (1 = lowest, as in CWA) "
            f"or a name from {list(self.names)}"
        )

    def check(self, level: int) -> int:
        """Return `level` if it is a level of this scale, else raise `ConfigurationError`."""
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level < len(self):
            raise ConfigurationError(
                f"risk level {level!r} is outside the scale 0..{self.highest} {list(self.names)}"
            )
        return level


CWA_SCALE: Final = RiskLevelScale(("low", "high"))


@dataclass(frozen=True, slots=True)
class LevelMapping:
    """A validated `(Range -> level)` table; `level_for(v)` is the first entry containing v.

    Validated at construction (CWA risk calculation v2 [docs/specifications.md#cwa-risk] step 7 and CWA risk calculation v2 [docs/specifications.md#cwa-risk] describe first-match lookup):
    ranges must be non-empty, listed from low to high values, must neither overlap nor leave a gap
    between neighbours, and levels must not decrease as the value grows. Values below the first
    range or above the last have no level, as in CWA (below 5 normalized minutes a day is ignored).
    Together these make the mapping monotone: more exposure never gives a lower level.
    """

    entries: tuple[tuple[Range, int], ...]
    scale: RiskLevelScale = CWA_SCALE

    def __post_init__(self) -> None:
        if not self.entries:
            raise ConfigurationError("a level mapping needs at least one range")
        for index, (rng, level) in enumerate(self.entries):
            if not isinstance(rng, Range):
                raise ConfigurationError(f"entry {index}: expected a Range, got {rng!r}")
            if rng.is_empty:
                raise ConfigurationError(f"entry {index}: range {rng} contains no value")
            try:
                self.scale.check(level)
            except ConfigurationError as exc:
                raise ConfigurationError(f"entry {index}: {exc}") from None
        for index in range(1, len(self.entries)):
            (low, low_level), (high, high_level) = self.entries[index - 1], self.entries[index]
            _check_neighbours(index, low, high)
            if high_level < low_level:
                raise ConfigurationError(
                    f"entries {index - 1} and {index}: level {self.scale.names[high_level]!r} for "
                    f"{high} is below level {self.scale.names[low_level]!r} for {low}; levels must "
                    "not decrease as the value grows"
                )

    @classmethod
    def of(
        cls, entries: Iterable[tuple[Range, int | str]], scale: RiskLevelScale = CWA_SCALE
    ) -> LevelMapping:
        """Build from `(Range, level index or level name)` pairs."""
        resolved = tuple(
            (rng, scale.level(level) if isinstance(level, str) else level) for rng, level in entries
        )
        return cls(resolved, scale)

    def level_for(self, value: float) -> int | None:
        """The level of `value`, or None when no range contains it (CWA: no level, drop or ignore)."""
        for rng, level in self.entries:
            if value in rng:
                return level
        return None

    def threshold_for(self, level: int) -> Range | None:
        """The first range that maps to `level` (used to explain results), or None if none does."""
        for rng, candidate in self.entries:
            if candidate == level:
                return rng
        return None


def _check_neighbours(index: int, low: Range, high: Range) -> None:
    where = f"entries {index - 1} and {index}"
    if high.max <= low.min and high.min < low.max:
        raise ConfigurationError(
            f"{where}: ranges {low} and {high} are listed from high to low; list them in "
            "increasing order"
        )
    touching = high.min == low.max
    if high.min < low.max or (touching and not low.max_exclusive and not high.min_exclusive):
        raise ConfigurationError(f"{where}: ranges {low} and {high} overlap")
    if high.min > low.max or (touching and low.max_exclusive and high.min_exclusive):
        raise ConfigurationError(
            f"{where}: ranges {low} and {high} leave a gap with no level between them"
        )


class RiskFailure(Enum):
    """The risk could not be calculated (CWA `CALCULATION_FAILED`): beats every level."""

    CALCULATION_FAILED = "calculation_failed"


CALCULATION_FAILED: Final = RiskFailure.CALCULATION_FAILED


def combine_levels(
    *levels: int | RiskFailure | None, scale: RiskLevelScale | None = None
) -> int | RiskFailure:
    """Combine proximity and check-in risk (CWA risk calculation v2 [docs/specifications.md#cwa-risk], RiskCombinator), for N levels.

    CWA: failed beats increased beats low. Generalised: failed beats everything, otherwise the
    highest level wins. `None` (a source with no level, e.g. no check-ins that day) contributes
    nothing; with nothing at all the result is the lowest level, as CWA reports LOW for an empty
    history. With `scale` given, every level is checked to belong to it.
    """
    if any(level is CALCULATION_FAILED for level in levels):
        return CALCULATION_FAILED
    present = [level for level in levels if isinstance(level, int)]
    for level in present:
        if scale is not None:
            scale.check(level)
        elif isinstance(level, bool) or level < 0:
            raise ConfigurationError(f"risk level {level!r} is not a level")
    return max(present, default=0)


def combine_day_levels(
    *per_day: Mapping[dt.date, int], scale: RiskLevelScale | None = None
) -> dict[dt.date, int]:
    """Merge per-day levels of several sources: each day gets the highest level any source gave it.

    Days present in only one source keep that source's level (CWA combines the exposure-window
    day history with the check-in day history this way, CWA risk calculation v2 [docs/specifications.md#cwa-risk]). Dates come out in calendar order.
    """
    days: set[dt.date] = set()
    for source in per_day:
        days.update(source)
    merged: dict[dt.date, int] = {}
    for day in sorted(days):
        combined = combine_levels(*(source.get(day) for source in per_day), scale=scale)
        if isinstance(combined, RiskFailure):  # pragma: no cover - sources hold ints only
            raise ConfigurationError("per-day levels cannot hold CALCULATION_FAILED")
        merged[day] = combined
    return merged
