"""Risk scoring: CWA v2 exposure-window risk, exact, generalised to N levels, with explanations.

`score_exposure_windows(windows, config)` is the one-call recipe; `RiskCalculationConfig`
loads CWA's camelCase JSON (or TOML) and rejects bad parameters at load time; `levels` holds the
generic range/level building blocks that check-in (presence tracing) risk reuses.
"""

from tracewarn.protocol.risk.calculation import (
    round_normalized_time,
    score_exposure_windows,
    score_window,
    transmission_risk_level,
)
from tracewarn.protocol.risk.cases import (
    CaseFile,
    CaseOutcome,
    FieldDifference,
    load_case_file,
    run_cases,
)
from tracewarn.protocol.risk.config import (
    AttenuationWeight,
    MinutesAtAttenuationFilter,
    RiskCalculationConfig,
    TransmissionRiskLevelEncoding,
    TrlFilter,
)
from tracewarn.protocol.risk.explain import describe_day, explain_risk
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
from tracewarn.protocol.risk.presets import (
    CWA_1_15,
    DEFAULT_CONFIG,
    FOUR_LEVEL_CONFIG,
    FOUR_LEVEL_SCALE,
)
from tracewarn.protocol.risk.result import (
    CombinedRisk,
    DayRisk,
    DropReason,
    RiskResult,
    WindowRisk,
)
from tracewarn.protocol.risk.windows_json import (
    exposure_window_from_json,
    exposure_window_to_json,
    exposure_windows_from_json,
)

__all__ = [
    "CALCULATION_FAILED",
    "CWA_1_15",
    "CWA_SCALE",
    "DEFAULT_CONFIG",
    "FOUR_LEVEL_CONFIG",
    "FOUR_LEVEL_SCALE",
    "AttenuationWeight",
    "CaseFile",
    "CaseOutcome",
    "CombinedRisk",
    "DayRisk",
    "DropReason",
    "FieldDifference",
    "LevelMapping",
    "MinutesAtAttenuationFilter",
    "Range",
    "RiskCalculationConfig",
    "RiskFailure",
    "RiskLevelScale",
    "RiskResult",
    "TransmissionRiskLevelEncoding",
    "TrlFilter",
    "WindowRisk",
    "combine_day_levels",
    "combine_levels",
    "describe_day",
    "explain_risk",
    "exposure_window_from_json",
    "exposure_window_to_json",
    "exposure_windows_from_json",
    "load_case_file",
    "round_normalized_time",
    "run_cases",
    "score_exposure_windows",
    "score_window",
    "transmission_risk_level",
]
