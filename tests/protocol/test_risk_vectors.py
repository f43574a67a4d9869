"""The official CWA risk test cases (CWA risk calculation v2 [docs/specifications.md#cwa-risk]), run through the protocol API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import load_vector_json
from tracewarn.protocol.risk import (
    CWA_1_15,
    FOUR_LEVEL_CONFIG,
    RiskCalculationConfig,
    exposure_windows_from_json,
    load_case_file,
    run_cases,
    score_exposure_windows,
)

ANDROID = ("cwa", "exposure-windows-risk-calculation.json")
IOS = ("cwa", "ios", "exposure-windows-risk-calculation.json")
TODAY = dt.date(2026, 11, 29)


def _cases(parts: tuple[str, ...]) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = load_vector_json(*parts)["testCases"]
    return cases


def test_android_file_has_29_cases_and_all_pass() -> None:
    outcomes = run_cases(load_case_file(load_vector_json(*ANDROID)))
    assert len(outcomes) == 29
    assert [o for o in outcomes if not o.passed] == []


@pytest.mark.parametrize("rounding", [True, False])
def test_android_file_passes_with_and_without_rounding(rounding: bool) -> None:
    # Spec CWA risk calculation v2 [docs/specifications.md#cwa-risk]: the current Android file cannot tell rounding on from off (in doubles).
    outcomes = run_cases(load_case_file(load_vector_json(*ANDROID), round_per_day=rounding))
    assert all(o.passed for o in outcomes)


def test_ios_file_passes_without_rounding() -> None:
    outcomes = run_cases(load_case_file(load_vector_json(*IOS), round_per_day=False))
    assert len(outcomes) == 28
    assert [o for o in outcomes if not o.passed] == []


def test_ios_file_with_rounding_flips_exactly_the_documented_case() -> None:
    outcomes = run_cases(load_case_file(load_vector_json(*IOS)))
    failed = [o for o in outcomes if not o.passed]
    assert [o.description for o in failed] == [
        "identify Exposure Window as Low Risk based on normalizedTime (< 15)"
    ]
    fields = {d.field: (d.expected, d.actual) for d in failed[0].differences}
    assert fields["expTotalRiskLevel"] == (1, 2)


def test_file_configuration_equals_production_1_15() -> None:
    config = RiskCalculationConfig.from_json(load_vector_json(*ANDROID))
    assert config == CWA_1_15


def test_rounding_case_is_rounded_up_to_the_threshold() -> None:
    case = _cases(ANDROID)[-1]
    assert case["description"].startswith("EXPOSUREAPP-12211")
    windows = exposure_windows_from_json(case["exposureWindows"], today=TODAY)
    rounded = score_exposure_windows(windows, CWA_1_15)
    plain = score_exposure_windows(windows, CWA_1_15.with_rounding(False))
    assert rounded.days[0].normalized_time == 9.0
    assert rounded.days[0].unrounded_normalized_time == plain.days[0].normalized_time


@pytest.mark.parametrize("index", range(29))
def test_four_level_default_refines_cwa_on_every_case(index: int) -> None:
    """Four-level `elevated`/`high` iff CWA HIGH; four-level `low` iff CWA LOW with a rated day."""
    case = _cases(ANDROID)[index]
    windows = exposure_windows_from_json(case["exposureWindows"], today=TODAY)
    cwa = score_exposure_windows(windows, CWA_1_15)
    four = score_exposure_windows(windows, FOUR_LEVEL_CONFIG)
    assert (four.level >= 2) == (cwa.level == 1)
    assert (four.level == 1) == (cwa.level == 0 and cwa.days_per_level[0] > 0)
    assert (four.level == 0) == (not cwa.rated_days)
    assert four.days_per_level[1] == cwa.days_per_level[0]
    assert four.days_per_level[2] + four.days_per_level[3] == cwa.days_per_level[1]
