"""CWA camelCase JSON <-> `RiskCalculationConfig`, with a message naming the path of every error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.risk.config import (
    _REQUIRED_KEYS,
    _TOP_KEYS,
    _TRL_ENCODING_KEYS,
    AttenuationWeight,
    MinutesAtAttenuationFilter,
    RiskCalculationConfig,
    TransmissionRiskLevelEncoding,
    TrlFilter,
    _is_number,
)
from tracewarn.protocol.risk.levels import CWA_SCALE, LevelMapping, Range, RiskLevelScale

_ENCODING_FIELDS = dict(
    zip(
        _TRL_ENCODING_KEYS,
        (
            "infectiousness_offset_standard",
            "infectiousness_offset_high",
            "report_type_offset_recursive",
            "report_type_offset_self_report",
            "report_type_offset_confirmed_clinical_diagnosis",
            "report_type_offset_confirmed_test",
        ),
        strict=True,
    )
)


def parse_config(obj: Any) -> RiskCalculationConfig:
    if isinstance(obj, Mapping) and "defaultRiskCalculationConfiguration" in obj:
        obj = obj["defaultRiskCalculationConfiguration"]
    where = "configuration"
    if not isinstance(obj, Mapping):
        raise ConfigurationError(f"{where}: expected an object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - _TOP_KEYS)
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {unknown} (check the spelling)")
    missing = [key for key in _REQUIRED_KEYS if key not in obj]
    if missing:
        raise ConfigurationError(f"{where}: missing required keys {missing}")

    scale = _scale(obj.get("riskLevels"))
    rounding = obj.get("roundNormalizedTimePerDay", True)
    if not isinstance(rounding, bool):
        raise ConfigurationError("roundNormalizedTimePerDay must be true or false")
    return RiskCalculationConfig(
        minutes_at_attenuation_weights=tuple(
            AttenuationWeight(
                _range(item, "attenuationRange", f"minutesAtAttenuationWeights[{i}]"),
                _weight(item, f"minutesAtAttenuationWeights[{i}]"),
            )
            for i, item in enumerate(_list(obj, "minutesAtAttenuationWeights"))
        ),
        window_levels=_mapping(obj, "normalizedTimePerEWToRiskLevelMapping", scale),
        day_levels=_mapping(obj, "normalizedTimePerDayToRiskLevelMapping", scale),
        transmission_risk_values=_trvs(_list(obj, "transmissionRiskValueMapping")),
        trl_encoding=_encoding(obj["trlEncoding"]),
        minutes_at_attenuation_filters=tuple(
            MinutesAtAttenuationFilter(
                _range(item, "attenuationRange", f"minutesAtAttenuationFilters[{i}]"),
                _range(item, "dropIfMinutesInRange", f"minutesAtAttenuationFilters[{i}]"),
            )
            for i, item in enumerate(_list(obj, "minutesAtAttenuationFilters"))
        ),
        trl_filters=tuple(
            TrlFilter(_range(item, "dropIfTrlInRange", f"trlFilters[{i}]"))
            for i, item in enumerate(_list(obj, "trlFilters"))
        ),
        round_per_day=rounding,
    )


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise ConfigurationError(f"{key}: expected a list, got {type(value).__name__}")
    return value


def _object(item: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise ConfigurationError(f"{where}: expected an object, got {item!r}")
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {unknown}")
    return item


# The keys each list entry may have; anything else is a typo worth reporting.
_ENTRY_KEYS = {
    "minutesAtAttenuationWeights": {"attenuationRange", "weight"},
    "minutesAtAttenuationFilters": {"attenuationRange", "dropIfMinutesInRange"},
    "trlFilters": {"dropIfTrlInRange"},
    "normalizedTimePerEWToRiskLevelMapping": {"normalizedTimeRange", "riskLevel"},
    "normalizedTimePerDayToRiskLevelMapping": {"normalizedTimeRange", "riskLevel"},
}


def _range(item: Any, key: str, where: str) -> Range:
    mapping = _object(item, where, _ENTRY_KEYS[where.partition("[")[0]])
    if key not in mapping:
        raise ConfigurationError(f"{where}: missing {key}")
    return Range.from_json(mapping[key], where=f"{where}.{key}")


def _weight(item: Mapping[str, Any], where: str) -> float:
    if "weight" not in item:
        raise ConfigurationError(f"{where}: missing weight")
    weight = item["weight"]
    if not _is_number(weight):
        raise ConfigurationError(f"{where}.weight: expected a number, got {weight!r}")
    return float(weight)


def _scale(names: Any) -> RiskLevelScale:
    if names is None:
        return CWA_SCALE
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigurationError("riskLevels: expected a list of level names, lowest first")
    return RiskLevelScale(tuple(names))


def _mapping(obj: Mapping[str, Any], key: str, scale: RiskLevelScale) -> LevelMapping:
    entries: list[tuple[Range, int]] = []
    for i, item in enumerate(_list(obj, key)):
        where = f"{key}[{i}]"
        rng = _range(item, "normalizedTimeRange", where)
        entries.append((rng, scale.level_from_json(item.get("riskLevel"), f"{where}.riskLevel")))
    try:
        return LevelMapping(tuple(entries), scale)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{key}: {exc}") from None


def _trvs(items: list[Any]) -> dict[int, float]:
    values: dict[int, float] = {}
    for i, item in enumerate(items):
        where = f"transmissionRiskValueMapping[{i}]"
        mapping = _object(item, where, {"transmissionRiskLevel", "transmissionRiskValue"})
        trl, trv = mapping.get("transmissionRiskLevel"), mapping.get("transmissionRiskValue")
        if isinstance(trl, bool) or not isinstance(trl, int):
            raise ConfigurationError(f"{where}: transmissionRiskLevel must be an integer")
        if not _is_number(trv):
            raise ConfigurationError(f"{where}: transmissionRiskValue must be a number")
        if trl in values:
            raise ConfigurationError(f"{where}: TRL {trl} is mapped twice")
        values[trl] = float(cast(float, trv))
    return values


def _encoding(obj: Any) -> TransmissionRiskLevelEncoding:
    where = "trlEncoding"
    mapping = _object(obj, where, set(_TRL_ENCODING_KEYS))
    missing = [key for key in _TRL_ENCODING_KEYS if key not in mapping]
    if missing:
        raise ConfigurationError(
            f"{where}: missing {missing}; every report type and infectiousness needs an offset"
        )
    for key in _TRL_ENCODING_KEYS:
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigurationError(f"{where}.{key}: expected an integer, got {value!r}")
    return TransmissionRiskLevelEncoding(
        **{field: mapping[key] for key, field in _ENCODING_FIELDS.items()}
    )


def dump_config(config: RiskCalculationConfig) -> dict[str, Any]:
    scale = config.scale

    def levels(mapping: LevelMapping) -> list[dict[str, Any]]:
        return [
            {
                "normalizedTimeRange": rng.to_json(),
                "riskLevel": level + 1 if scale == CWA_SCALE else scale.names[level],
            }
            for rng, level in mapping.entries
        ]

    out: dict[str, Any] = {}
    if scale != CWA_SCALE:
        out["riskLevels"] = list(scale.names)
    out |= {
        "minutesAtAttenuationFilters": [
            {
                "attenuationRange": f.attenuation_range.to_json(),
                "dropIfMinutesInRange": f.drop_if_minutes_in_range.to_json(),
            }
            for f in config.minutes_at_attenuation_filters
        ],
        "trlFilters": [
            {"dropIfTrlInRange": f.drop_if_trl_in_range.to_json()} for f in config.trl_filters
        ],
        "minutesAtAttenuationWeights": [
            {"attenuationRange": w.attenuation_range.to_json(), "weight": _num(w.weight)}
            for w in config.minutes_at_attenuation_weights
        ],
        "normalizedTimePerEWToRiskLevelMapping": levels(config.window_levels),
        "normalizedTimePerDayToRiskLevelMapping": levels(config.day_levels),
        "trlEncoding": {
            key: getattr(config.trl_encoding, field) for key, field in _ENCODING_FIELDS.items()
        },
        "transmissionRiskValueMapping": [
            {"transmissionRiskLevel": trl, "transmissionRiskValue": _num(trv)}
            for trl, trv in sorted(config.transmission_risk_values.items())
        ],
        "roundNormalizedTimePerDay": config.round_per_day,
    }
    return out


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value
