"""Risk configuration: CWA camelCase JSON and TOML in, bad parameters rejected at load time."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.risk import (
    CWA_1_15,
    CWA_SCALE,
    DEFAULT_CONFIG,
    FOUR_LEVEL_CONFIG,
    FOUR_LEVEL_SCALE,
    Range,
    RiskCalculationConfig,
)


def cwa_json() -> dict[str, Any]:
    return copy.deepcopy(CWA_1_15.to_json())


def test_shipped_configs_round_trip_through_json() -> None:
    for config in (CWA_1_15, FOUR_LEVEL_CONFIG):
        assert RiskCalculationConfig.from_json(config.to_json()) == config
    assert DEFAULT_CONFIG is FOUR_LEVEL_CONFIG
    assert FOUR_LEVEL_CONFIG.scale == FOUR_LEVEL_SCALE
    assert CWA_1_15.scale == CWA_SCALE


def test_cwa_json_uses_cwa_numbers_and_four_level_uses_names() -> None:
    cwa = CWA_1_15.to_json()
    assert "riskLevels" not in cwa
    assert [e["riskLevel"] for e in cwa["normalizedTimePerDayToRiskLevelMapping"]] == [1, 2]
    four = FOUR_LEVEL_CONFIG.to_json()
    assert four["riskLevels"] == ["none", "low", "elevated", "high"]
    assert [e["riskLevel"] for e in four["normalizedTimePerDayToRiskLevelMapping"]] == [
        "low",
        "elevated",
        "high",
    ]


def test_production_values() -> None:
    assert CWA_1_15.weight_for(62) == 0.8
    assert CWA_1_15.weight_for(63) == 1.0
    assert CWA_1_15.weight_for(78) == 0.1
    assert CWA_1_15.weight_for(79) == 0.0
    assert [CWA_1_15.transmission_risk_value(t) for t in range(1, 9)] == [
        0,
        0,
        0.6,
        0.8,
        1.0,
        1.2,
        1.4,
        1.6,
    ]
    assert CWA_1_15.day_levels.level_for(4.9) is None
    assert CWA_1_15.round_per_day is True


def test_toml_form_loads_the_same_configuration() -> None:
    text = """
riskLevels = ["none", "low", "elevated", "high"]
roundNormalizedTimePerDay = false

minutesAtAttenuationWeights = [
  { attenuationRange = { min = 0, max = 63, maxExclusive = true }, weight = 0.8 },
  { attenuationRange = { min = 63, max = 73, maxExclusive = true }, weight = 1.0 },
  { attenuationRange = { min = 73, max = 79, maxExclusive = true }, weight = 0.1 },
]
normalizedTimePerEWToRiskLevelMapping = [
  { normalizedTimeRange = { min = 0, max = 9, maxExclusive = true }, riskLevel = "low" },
  { normalizedTimeRange = { min = 9, max = 15, maxExclusive = true }, riskLevel = "elevated" },
  { normalizedTimeRange = { min = 15, max = 9999 }, riskLevel = "high" },
]
normalizedTimePerDayToRiskLevelMapping = [
  { normalizedTimeRange = { min = 5, max = 9, maxExclusive = true }, riskLevel = 2 },
  { normalizedTimeRange = { min = 9, max = 15, maxExclusive = true }, riskLevel = 3 },
  { normalizedTimeRange = { min = 15, max = 99999 }, riskLevel = 4 },
]
transmissionRiskValueMapping = [
  { transmissionRiskLevel = 1, transmissionRiskValue = 0 },
  { transmissionRiskLevel = 2, transmissionRiskValue = 0 },
  { transmissionRiskLevel = 3, transmissionRiskValue = 0.6 },
  { transmissionRiskLevel = 4, transmissionRiskValue = 0.8 },
  { transmissionRiskLevel = 5, transmissionRiskValue = 1.0 },
  { transmissionRiskLevel = 6, transmissionRiskValue = 1.2 },
  { transmissionRiskLevel = 7, transmissionRiskValue = 1.4 },
  { transmissionRiskLevel = 8, transmissionRiskValue = 1.6 },
]

[trlEncoding]
infectiousnessOffsetStandard = 1
infectiousnessOffsetHigh = 2
reportTypeOffsetRecursive = 0
reportTypeOffsetSelfReport = 2
reportTypeOffsetConfirmedClinicalDiagnosis = 4
reportTypeOffsetConfirmedTest = 6
"""
    assert RiskCalculationConfig.from_toml(text) == FOUR_LEVEL_CONFIG.with_rounding(False)


def test_invalid_toml_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="TOML"):
        RiskCalculationConfig.from_toml("riskLevels = [")


def test_whole_test_case_file_is_accepted_as_configuration() -> None:
    wrapped = {"__comment__": "x", "defaultRiskCalculationConfiguration": cwa_json()}
    assert RiskCalculationConfig.from_json(wrapped) == CWA_1_15


def _set(path: str, value: Any) -> dict[str, Any]:
    obj = cwa_json()
    node: Any = obj
    *parents, last = path.split("/")
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is _DELETE:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return obj


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        # overlapping or unordered level ranges
        (
            "normalizedTimePerDayToRiskLevelMapping/1/normalizedTimeRange",
            {"min": 8, "max": 99999},
            "overlap",
        ),
        (
            "normalizedTimePerEWToRiskLevelMapping/0/normalizedTimeRange",
            {"min": 0, "max": 9},
            "overlap",
        ),
        (
            "normalizedTimePerDayToRiskLevelMapping",
            [
                {"normalizedTimeRange": {"min": 9, "max": 99999}, "riskLevel": 2},
                {"normalizedTimeRange": {"min": 5, "max": 9, "maxExclusive": True}, "riskLevel": 1},
            ],
            "high to low",
        ),
        ("normalizedTimePerDayToRiskLevelMapping/0/normalizedTimeRange/min", 10, "unordered"),
        (
            "normalizedTimePerDayToRiskLevelMapping/1/normalizedTimeRange",
            {"min": 10, "max": 99999},
            "gap",
        ),
        (
            "normalizedTimePerDayToRiskLevelMapping",
            [
                {"normalizedTimeRange": {"min": 5, "max": 9, "maxExclusive": True}, "riskLevel": 2},
                {"normalizedTimeRange": {"min": 9, "max": 99999}, "riskLevel": 1},
            ],
            "decrease",
        ),
        ("normalizedTimePerDayToRiskLevelMapping/0/riskLevel", 0, "not a risk level"),
        ("normalizedTimePerDayToRiskLevelMapping/0/riskLevel", 3, "not a risk level"),
        ("normalizedTimePerDayToRiskLevelMapping/0/riskLevel", "medium", "unknown risk level"),
        ("normalizedTimePerDayToRiskLevelMapping", [], "at least one"),
        # missing TRL mapping
        ("transmissionRiskValueMapping/4", _DELETE, r"no value for TRL \[5\]"),
        ("transmissionRiskValueMapping/0/transmissionRiskLevel", 2, "mapped twice"),
        ("transmissionRiskValueMapping/0/transmissionRiskLevel", 9, "outside 1..8"),
        ("transmissionRiskValueMapping/2/transmissionRiskValue", -0.5, ">= 0"),
        # unknown report type / incomplete encoding
        ("trlEncoding/reportTypeOffsetUnknown", 0, "unknown keys"),
        ("trlEncoding/reportTypeOffsetSelfReport", _DELETE, "missing"),
        ("trlEncoding/reportTypeOffsetConfirmedTest", 7, r"TRL \[9\]"),
        ("trlEncoding/infectiousnessOffsetHigh", 1.5, "integer"),
        # weights
        ("minutesAtAttenuationWeights/0/weight", -1, ">= 0"),
        ("minutesAtAttenuationWeights/0/weight", "0.8", "number"),
        (
            "minutesAtAttenuationWeights/1/attenuationRange",
            {"min": 60, "max": 73, "maxExclusive": True},
            "overlap",
        ),
        # structure and typos
        ("normalizedTimePerEwToRiskLevelMapping", [], "unknown keys"),
        ("trlEncoding", _DELETE, "missing required keys"),
        ("trlFilters", {}, "expected a list"),
        ("roundNormalizedTimePerDay", "yes", "true or false"),
        ("riskLevels", ["low"], "at least two"),
        ("riskLevels", ["low", "low"], "distinct"),
        ("minutesAtAttenuationWeights/0/attenuationRange/minExcl", True, "unknown range keys"),
    ],
)
def test_bad_configuration_rejected_at_load(path: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RiskCalculationConfig.from_json(_set(path, value))


def _trv_trl_8_removed(obj: dict[str, Any]) -> dict[str, Any]:
    obj["transmissionRiskValueMapping"] = [
        e for e in obj["transmissionRiskValueMapping"] if e["transmissionRiskLevel"] != 8
    ]
    return obj


def test_missing_trl_allowed_when_a_filter_drops_it() -> None:
    obj = _trv_trl_8_removed(cwa_json())
    with pytest.raises(ConfigurationError, match="no value for TRL"):
        RiskCalculationConfig.from_json(obj)
    obj["trlFilters"] = [{"dropIfTrlInRange": {"min": 8, "max": 8}}]
    assert RiskCalculationConfig.from_json(obj).trl_filters[0].drop_if_trl_in_range == Range(8, 8)


def test_n_level_scale_with_names_and_numbers() -> None:
    obj = cwa_json()
    obj["riskLevels"] = ["green", "yellow", "red"]
    obj["normalizedTimePerDayToRiskLevelMapping"][1]["riskLevel"] = "red"
    config = RiskCalculationConfig.from_json(obj)
    assert config.scale.names == ("green", "yellow", "red")
    assert config.day_levels.level_for(5) == 0
    assert config.day_levels.level_for(9) == 2


def test_deprecated_multiplier_and_comment_are_accepted() -> None:
    obj = cwa_json() | {"transmissionRiskLevelMultiplier": 0, "__comment__": "from YAML"}
    assert RiskCalculationConfig.from_json(obj) == CWA_1_15


def test_not_an_object() -> None:
    with pytest.raises(ConfigurationError, match="expected an object"):
        RiskCalculationConfig.from_json([1, 2])


def test_entry_keys_are_checked_per_list() -> None:
    obj = cwa_json()
    obj["minutesAtAttenuationWeights"][0]["riskLevel"] = 1
    with pytest.raises(ConfigurationError, match=r"minutesAtAttenuationWeights\[0\]: unknown keys"):
        RiskCalculationConfig.from_json(obj)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 100_000) | st.floats() | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def _leaf_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaf_paths(v, (*prefix, k))] + [prefix]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaf_paths(v, (*prefix, i))] + [prefix]
    return [prefix]


@settings(max_examples=300)
@given(st.data(), json_values)
def test_any_mutation_of_a_valid_config_loads_or_raises_configuration_error(
    data: st.DataObject, replacement: Any
) -> None:
    obj = cwa_json()
    path = data.draw(st.sampled_from([p for p in _leaf_paths(obj) if p]))
    node: Any = obj
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = replacement
    try:
        config = RiskCalculationConfig.from_json(obj)
    except ConfigurationError:
        return
    assert RiskCalculationConfig.from_json(config.to_json()) == config


@given(json_values)
def test_any_json_loads_or_raises_configuration_error(obj: Any) -> None:
    with contextlib.suppress(ConfigurationError):
        RiskCalculationConfig.from_json(obj)
