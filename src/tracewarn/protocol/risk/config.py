"""Typed, validated risk-calculation configuration (CWA `RiskCalculationParameters`, camelCase JSON).

Theory of operation (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): the health authority
ships the parameters of the exposure-window algorithm as JSON in the field names of CWA's proto
`RiskCalculationParameters`. Everything is checked when the configuration is built: overlapping,
unordered or non-monotone level tables, a report type without a TRL offset, a TRL the encoding can
produce but the TRV table lacks, negative weights, unknown keys (typos). A `RiskCalculationConfig`
that exists is therefore one that can score any window without a configuration error.

tracewarn extensions, all optional so that CWA's own files load unchanged:
`riskLevels` (ordered level names, lowest first; default `["low", "high"]` = CWA), `riskLevel` given
as a name instead of CWA's number (1 = lowest level, as CWA's enum where 0 is UNSPECIFIED), and
`roundNormalizedTimePerDay` (default true: Android's 1-decimal rounding of the per-day sum, CWA risk calculation v2 [docs/specifications.md#cwa-risk];
false reproduces iOS and the older test file).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.exposure_window import Infectiousness, ReportType
from tracewarn.protocol.risk.levels import CWA_SCALE, LevelMapping, Range, RiskLevelScale

__all__ = [
    "AttenuationWeight",
    "MinutesAtAttenuationFilter",
    "RiskCalculationConfig",
    "TransmissionRiskLevelEncoding",
    "TrlFilter",
]

MIN_TRL = 1
MAX_TRL = 8

_TOP_KEYS = {
    "minutesAtAttenuationFilters",
    "trlFilters",
    "minutesAtAttenuationWeights",
    "normalizedTimePerEWToRiskLevelMapping",
    "normalizedTimePerDayToRiskLevelMapping",
    "trlEncoding",
    "transmissionRiskValueMapping",
    "riskLevels",
    "roundNormalizedTimePerDay",
    "transmissionRiskLevelMultiplier",  # deprecated in CWA (always 0); accepted and ignored
    "__comment__",
}
_REQUIRED_KEYS = (
    "minutesAtAttenuationWeights",
    "normalizedTimePerEWToRiskLevelMapping",
    "normalizedTimePerDayToRiskLevelMapping",
    "trlEncoding",
    "transmissionRiskValueMapping",
)
_TRL_ENCODING_KEYS = (
    "infectiousnessOffsetStandard",
    "infectiousnessOffsetHigh",
    "reportTypeOffsetRecursive",
    "reportTypeOffsetSelfReport",
    "reportTypeOffsetConfirmedClinicalDiagnosis",
    "reportTypeOffsetConfirmedTest",
)


@dataclass(frozen=True, slots=True)
class MinutesAtAttenuationFilter:
    """Drop a window whose minutes at `attenuation_range` fall in `drop_if_minutes_in_range` (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""

    attenuation_range: Range
    drop_if_minutes_in_range: Range


@dataclass(frozen=True, slots=True)
class TrlFilter:
    """Drop a window whose transmission risk level is in `drop_if_trl_in_range` (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""

    drop_if_trl_in_range: Range


@dataclass(frozen=True, slots=True)
class AttenuationWeight:
    """Weight of the seconds a scan saw at a minimum attenuation in `attenuation_range` (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""

    attenuation_range: Range
    weight: float


@dataclass(frozen=True, slots=True)
class TransmissionRiskLevelEncoding:
    """TRL = report-type offset + infectiousness offset (CWA risk calculation v2 [docs/specifications.md#cwa-risk]); CWA 1.15 by default."""

    infectiousness_offset_standard: int = 1
    infectiousness_offset_high: int = 2
    report_type_offset_recursive: int = 0
    report_type_offset_self_report: int = 2
    report_type_offset_confirmed_clinical_diagnosis: int = 4
    report_type_offset_confirmed_test: int = 6

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigurationError(
                    f"trlEncoding {item.name} must be an integer, got {value!r}"
                )

    def report_type_offset(self, report_type: int) -> int | None:
        """The offset of a report type, or None for UNKNOWN/REVOKED/anything unmapped."""
        offsets = {
            ReportType.RECURSIVE.value: self.report_type_offset_recursive,
            ReportType.SELF_REPORT.value: self.report_type_offset_self_report,
            ReportType.CONFIRMED_CLINICAL_DIAGNOSIS.value: (
                self.report_type_offset_confirmed_clinical_diagnosis
            ),
            ReportType.CONFIRMED_TEST.value: self.report_type_offset_confirmed_test,
        }
        return offsets.get(int(report_type))

    def infectiousness_offset(self, infectiousness: int) -> int:
        # Android treats every infectiousness but HIGH (including NONE) as standard (CWA risk calculation v2 [docs/specifications.md#cwa-risk]).
        if infectiousness == Infectiousness.HIGH:
            return self.infectiousness_offset_high
        return self.infectiousness_offset_standard

    def reachable_levels(self) -> set[int]:
        """Every TRL this encoding can produce for a mapped report type."""
        report_offsets = (
            self.report_type_offset_recursive,
            self.report_type_offset_self_report,
            self.report_type_offset_confirmed_clinical_diagnosis,
            self.report_type_offset_confirmed_test,
        )
        infectious_offsets = (self.infectiousness_offset_standard, self.infectiousness_offset_high)
        return {r + i for r, i in itertools.product(report_offsets, infectious_offsets)}


@dataclass(frozen=True, slots=True)
class RiskCalculationConfig:
    """Parameters of the exposure-window risk calculation, validated on construction (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""

    minutes_at_attenuation_weights: tuple[AttenuationWeight, ...]
    window_levels: LevelMapping
    day_levels: LevelMapping
    transmission_risk_values: Mapping[int, float]
    trl_encoding: TransmissionRiskLevelEncoding = field(
        default_factory=TransmissionRiskLevelEncoding
    )
    minutes_at_attenuation_filters: tuple[MinutesAtAttenuationFilter, ...] = ()
    trl_filters: tuple[TrlFilter, ...] = ()
    round_per_day: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.transmission_risk_values, Mapping):
            raise ConfigurationError("transmission risk values must map TRL to TRV")
        # A read-only copy: the caller's dict must not change a validated configuration.
        object.__setattr__(
            self, "transmission_risk_values", MappingProxyType(dict(self.transmission_risk_values))
        )
        if self.window_levels.scale != self.day_levels.scale:
            raise ConfigurationError("window and day level mappings use different level scales")
        _check_weights(self.minutes_at_attenuation_weights)
        _check_trvs(self.transmission_risk_values, self.trl_encoding, self.trl_filters)
        if not isinstance(self.round_per_day, bool):
            raise ConfigurationError("roundNormalizedTimePerDay must be true or false")

    @property
    def scale(self) -> RiskLevelScale:
        return self.day_levels.scale

    def transmission_risk_value(self, trl: int) -> float:
        """TRV of a TRL; 0.0 for a TRL the table lacks (only reachable ones are required)."""
        return self.transmission_risk_values.get(trl, 0.0)

    def weight_for(self, attenuation: float) -> float:
        """Weight of the first entry whose range holds `attenuation`, 0 if none does (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""
        for entry in self.minutes_at_attenuation_weights:
            if attenuation in entry.attenuation_range:
                return entry.weight
        return 0.0

    def with_rounding(self, round_per_day: bool) -> RiskCalculationConfig:
        """The same parameters with per-day rounding switched on or off."""
        return dataclasses.replace(self, round_per_day=round_per_day)

    @classmethod
    def from_json(cls, obj: Any) -> RiskCalculationConfig:
        """Build from CWA's camelCase JSON object (already decoded), rejecting bad parameters.

        A whole CWA test-case file is accepted too: its `defaultRiskCalculationConfiguration` is used.
        """
        from tracewarn.protocol.risk._config_json import parse_config

        return parse_config(obj)

    @classmethod
    def from_toml(cls, text: str) -> RiskCalculationConfig:
        """Build from TOML text with the same camelCase keys as the JSON form."""
        try:
            obj = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"configuration is not valid TOML: {exc}") from None
        return cls.from_json(obj)

    def to_json(self) -> dict[str, Any]:
        """The camelCase JSON form; `from_json(to_json())` gives an equal configuration."""
        from tracewarn.protocol.risk._config_json import dump_config

        return dump_config(self)


def _check_weights(weights: tuple[AttenuationWeight, ...]) -> None:
    for index, entry in enumerate(weights):
        where = f"minutesAtAttenuationWeights[{index}]"
        if not isinstance(entry, AttenuationWeight):
            raise ConfigurationError(f"{where}: expected an AttenuationWeight")
        if not _is_number(entry.weight) or not math.isfinite(entry.weight) or entry.weight < 0:
            raise ConfigurationError(f"{where}: weight must be a finite number >= 0")
        if entry.attenuation_range.is_empty:
            raise ConfigurationError(f"{where}: {entry.attenuation_range} contains no value")
    # First match wins (CWA risk calculation v2 [docs/specifications.md#cwa-risk]), so an overlap would silently shadow a weight: reject it.
    for (i, a), (j, b) in itertools.combinations(enumerate(weights), 2):
        if _overlap(a.attenuation_range, b.attenuation_range):
            raise ConfigurationError(
                f"minutesAtAttenuationWeights[{i}] {a.attenuation_range} and [{j}] "
                f"{b.attenuation_range} overlap"
            )


def _overlap(a: Range, b: Range) -> bool:
    lo, hi = (a, b) if (a.min, a.min_exclusive) <= (b.min, b.min_exclusive) else (b, a)
    if hi.min < lo.max:
        return True
    return hi.min == lo.max and not lo.max_exclusive and not hi.min_exclusive


def _check_trvs(
    values: Mapping[int, float],
    encoding: TransmissionRiskLevelEncoding,
    filters: tuple[TrlFilter, ...],
) -> None:
    for trl, trv in values.items():
        if isinstance(trl, bool) or not isinstance(trl, int) or not MIN_TRL <= trl <= MAX_TRL:
            raise ConfigurationError(
                f"transmissionRiskValueMapping: TRL {trl!r} is outside {MIN_TRL}..{MAX_TRL}"
            )
        if not _is_number(trv) or not math.isfinite(trv) or trv < 0:
            raise ConfigurationError(
                f"transmissionRiskValueMapping: TRV of TRL {trl} must be a finite number >= 0"
            )
    reachable = encoding.reachable_levels()
    outside = sorted(t for t in reachable if not MIN_TRL <= t <= MAX_TRL)
    if outside:
        raise ConfigurationError(
            f"trlEncoding produces TRL {outside}, outside {MIN_TRL}..{MAX_TRL}; check the offsets"
        )
    kept = {t for t in reachable if not any(t in f.drop_if_trl_in_range for f in filters)}
    missing = sorted(kept - set(values))
    if missing:
        raise ConfigurationError(
            f"transmissionRiskValueMapping has no value for TRL {missing}, which trlEncoding can "
            "produce; add them (use 0 to ignore such windows)"
        )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def require_scale_of_two(config: RiskCalculationConfig, what: str) -> None:
    """CWA's LOW/HIGH result fields only exist for two-level configurations."""
    if len(config.scale) != len(CWA_SCALE):
        raise ConfigurationError(
            f"{what} needs a two-level configuration (CWA LOW/HIGH), this one has "
            f"{len(config.scale)} levels {list(config.scale.names)}"
        )
