"""Range semantics, level scales, validated level mappings and risk combination (CWA risk calculation v2 [docs/specifications.md#cwa-risk])."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracewarn.protocol.errors import ConfigurationError, ProtocolError
from tracewarn.protocol.risk import (
    CALCULATION_FAILED,
    CWA_SCALE,
    LevelMapping,
    Range,
    RiskLevelScale,
    combine_day_levels,
    combine_levels,
)

FOUR = RiskLevelScale(("none", "low", "elevated", "high"))


@pytest.mark.parametrize(
    ("rng", "value", "inside"),
    [
        (Range(0, 9, max_exclusive=True), 0, True),
        (Range(0, 9, max_exclusive=True), 8.999, True),
        (Range(0, 9, max_exclusive=True), 9, False),
        (Range(9, 9999), 9, True),
        (Range(9, 9999), 9999, True),
        (Range(9, 9999), 9999.0001, False),
        (Range(0, 10, min_exclusive=True), 0, False),
        (Range(0, 10, min_exclusive=True), 0.0001, True),
        (Range(), 0, True),
        (Range(), 0.1, False),
        (Range(5, 5), 5, True),
    ],
)
def test_range_semantics_table(rng: Range, value: float, inside: bool) -> None:
    assert (value in rng) is inside
    assert rng.contains(value) is inside


def test_range_json_defaults_are_cwa_defaults() -> None:
    assert Range.from_json({}) == Range(0, 0)
    assert Range.from_json({"max": 63, "maxExclusive": True}) == Range(0, 63, False, True)
    assert Range.from_json({"min": 9, "max": 9999}).to_json() == {"min": 9, "max": 9999}
    rng = Range(0.5, 2, min_exclusive=True)
    assert Range.from_json(rng.to_json()) == rng


@pytest.mark.parametrize(
    "obj",
    [
        {"min": 10, "max": 5},
        {"min": "1", "max": 5},
        {"min": 1, "max": 5, "maxExclusive": "yes"},
        {"min": 1, "max": float("inf")},
        {"min": 1, "max": 5, "mxa": 3},
        [1, 5],
    ],
)
def test_range_rejects_bad_json(obj: object) -> None:
    with pytest.raises(ConfigurationError):
        Range.from_json(obj)


@given(
    lo=st.floats(-1e6, 1e6),
    hi=st.floats(-1e6, 1e6),
    v=st.floats(-1e6, 1e6),
    lo_ex=st.booleans(),
    hi_ex=st.booleans(),
)
def test_range_matches_definition(lo: float, hi: float, v: float, lo_ex: bool, hi_ex: bool) -> None:
    lo, hi = min(lo, hi), max(lo, hi)
    rng = Range(lo, hi, lo_ex, hi_ex)
    expected = (lo < v or (not lo_ex and v == lo)) and (v < hi or (not hi_ex and v == hi))
    assert (v in rng) is expected


def test_scale_names_and_checks() -> None:
    assert len(CWA_SCALE) == 2
    assert CWA_SCALE.name(0) == "low" and CWA_SCALE.name(1) == "high"
    assert FOUR.level("Elevated") == 2
    assert list(FOUR) == [0, 1, 2, 3]
    assert FOUR.highest == 3
    with pytest.raises(ConfigurationError):
        FOUR.level("severe")
    with pytest.raises(ConfigurationError):
        FOUR.name(4)
    for names in [("only",), ("a", "A"), ("a", "")]:
        with pytest.raises(ConfigurationError):
            RiskLevelScale(names)


def cwa_window_mapping() -> LevelMapping:
    return LevelMapping.of([(Range(0, 9, max_exclusive=True), "low"), (Range(9, 9999), "high")])


def test_mapping_first_match_and_no_level() -> None:
    day = LevelMapping.of([(Range(5, 9, max_exclusive=True), 0), (Range(9, 99999), 1)])
    assert day.level_for(4.99) is None
    assert day.level_for(5) == 0
    assert day.level_for(8.99) == 0
    assert day.level_for(9) == 1
    assert day.level_for(100000) is None
    assert cwa_window_mapping().level_for(0) == 0
    assert day.threshold_for(1) == Range(9, 99999)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([(Range(0, 10), 0), (Range(9, 20), 1)], "overlap"),
        ([(Range(0, 10), 0), (Range(10, 20), 1)], "overlap"),
        ([(Range(10, 20), 0), (Range(0, 10, max_exclusive=True), 1)], "high to low"),
        ([(Range(0, 5), 0), (Range(6, 20), 1)], "gap"),
        ([(Range(0, 5, max_exclusive=True), 0), (Range(5, 9, min_exclusive=True), 1)], "gap"),
        ([(Range(0, 5, max_exclusive=True), 1), (Range(5, 9), 0)], "decrease"),
        ([(Range(5, 5, max_exclusive=True), 0)], "no value"),
        ([(Range(0, 5), 2)], "outside the scale"),
        ([], "at least one"),
    ],
)
def test_mapping_rejects_bad_tables(entries: list[tuple[Range, int]], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        LevelMapping(tuple(entries))


def test_configuration_error_is_a_protocol_error() -> None:
    assert issubclass(ConfigurationError, ProtocolError)


@given(st.lists(st.floats(0, 1e5), min_size=2, max_size=2))
def test_valid_mapping_is_monotone(values: list[float]) -> None:
    mapping = LevelMapping.of(
        [
            (Range(5, 9, max_exclusive=True), "low"),
            (Range(9, 15, max_exclusive=True), "elevated"),
            (Range(15, 99999), "high"),
        ],
        FOUR,
    )
    a, b = sorted(values)
    la, lb = mapping.level_for(a), mapping.level_for(b)
    if b <= 99999:
        assert (-1 if la is None else la) <= (-1 if lb is None else lb)


def test_combine_levels_cwa_semantics() -> None:
    low, high = 0, 1
    assert combine_levels(low, low) == low
    assert combine_levels(low, high) == high
    assert combine_levels(high, low) == high
    assert combine_levels(high, CALCULATION_FAILED) is CALCULATION_FAILED
    assert combine_levels(CALCULATION_FAILED, low) is CALCULATION_FAILED
    assert combine_levels() == 0
    assert combine_levels(None, None) == 0


@given(st.lists(st.one_of(st.none(), st.integers(0, 3)), max_size=6))
def test_combine_levels_is_max(levels: list[int | None]) -> None:
    present = [lv for lv in levels if lv is not None]
    assert combine_levels(*levels, scale=FOUR) == max(present, default=0)
    assert combine_levels(*levels, CALCULATION_FAILED) is CALCULATION_FAILED


def test_combine_levels_checks_scale() -> None:
    with pytest.raises(ConfigurationError):
        combine_levels(0, 2, scale=CWA_SCALE)
    with pytest.raises(ConfigurationError):
        combine_levels(-1)


def test_combine_day_levels() -> None:
    d1, d2, d3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
    merged = combine_day_levels({d2: 1, d1: 0}, {d2: 2, d3: 3}, scale=FOUR)
    assert merged == {d1: 0, d2: 2, d3: 3}
    assert list(merged) == [d1, d2, d3]
