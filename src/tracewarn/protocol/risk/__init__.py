"""Risk scoring: CWA v2 exposure-window risk, generalised to N levels, and its building blocks."""

from tracewarn.protocol.risk.levels import (
    CALCULATION_FAILED,
    CWA_SCALE,
    LevelMapping,
    Range,
    RiskFailure,
    RiskLevelScale,
    combine_day_levels,
    combine_levels,
)

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
