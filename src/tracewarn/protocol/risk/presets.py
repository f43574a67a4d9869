"""Shipped configurations: CWA production 1.15 (two levels) and tracewarn's default four levels.

CWA 1.15 is CWA risk calculation v2 [docs/specifications.md#cwa-risk]. The four-level default keeps every CWA
1.15 parameter (attenuation weights, TRL encoding, TRVs, the day threshold 5 below which a day has
no level) and only splits the level tables, so it is a refinement of CWA, never a contradiction:

- `low`      = CWA LOW:  day normalized time in [5, 9)
- `elevated` = CWA HIGH below the older CWA threshold: [9, 15)
- `high`     = at or above 15, where both CWA 1.15 and the older parameter set (CWA risk calculation v2 [docs/specifications.md#cwa-risk], threshold
  15) say HIGH
- `none`     = no day reached 5: nothing worth telling the person.

Hence four-level `elevated` or `high` if and only if CWA 1.15 says HIGH, and four-level `low` if
and only if CWA says LOW with at least one low-risk day. The reasoning is in docs/risk-scoring.md.
"""

from __future__ import annotations

from typing import Final

from tracewarn.protocol.risk.config import (
    AttenuationWeight,
    RiskCalculationConfig,
    TransmissionRiskLevelEncoding,
)
from tracewarn.protocol.risk.levels import CWA_SCALE, LevelMapping, Range, RiskLevelScale

__all__ = ["CWA_1_15", "DEFAULT_CONFIG", "FOUR_LEVEL_CONFIG", "FOUR_LEVEL_SCALE"]

_WEIGHTS = (
    AttenuationWeight(Range(0, 63, max_exclusive=True), 0.8),
    AttenuationWeight(Range(63, 73, max_exclusive=True), 1.0),
    AttenuationWeight(Range(73, 79, max_exclusive=True), 0.1),
)
_TRVS = {1: 0.0, 2: 0.0, 3: 0.6, 4: 0.8, 5: 1.0, 6: 1.2, 7: 1.4, 8: 1.6}

CWA_1_15: Final = RiskCalculationConfig(
    minutes_at_attenuation_weights=_WEIGHTS,
    window_levels=LevelMapping(
        ((Range(0, 9, max_exclusive=True), 0), (Range(9, 9999), 1)), CWA_SCALE
    ),
    day_levels=LevelMapping(
        ((Range(5, 9, max_exclusive=True), 0), (Range(9, 99999), 1)), CWA_SCALE
    ),
    transmission_risk_values=_TRVS,
    trl_encoding=TransmissionRiskLevelEncoding(),
)

FOUR_LEVEL_SCALE: Final = RiskLevelScale(("none", "low", "elevated", "high"))

FOUR_LEVEL_CONFIG: Final = RiskCalculationConfig(
    minutes_at_attenuation_weights=_WEIGHTS,
    window_levels=LevelMapping.of(
        (
            (Range(0, 9, max_exclusive=True), "low"),
            (Range(9, 15, max_exclusive=True), "elevated"),
            (Range(15, 9999), "high"),
        ),
        FOUR_LEVEL_SCALE,
    ),
    day_levels=LevelMapping.of(
        (
            (Range(5, 9, max_exclusive=True), "low"),
            (Range(9, 15, max_exclusive=True), "elevated"),
            (Range(15, 99999), "high"),
        ),
        FOUR_LEVEL_SCALE,
    ),
    transmission_risk_values=_TRVS,
    trl_encoding=TransmissionRiskLevelEncoding(),
)

DEFAULT_CONFIG: Final = FOUR_LEVEL_CONFIG
