"""Run a file in CWA's test-case format against its own configuration (CWA risk calculation v2 [docs/specifications.md#cwa-risk]).

A health authority checks a configuration before rollout by writing cases (windows plus the
expected LOW/HIGH result) in the format of CWA's `exposure-windows-risk-calculation.json`. Each
case passes when all seven `exp…` fields match; a failing case lists every differing field.
Ages are relative, so `today` only anchors them: any day gives the same verdicts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from tracewarn.protocol.errors import ConfigurationError, ProtocolError, RiskInputError
from tracewarn.protocol.risk.calculation import score_exposure_windows
from tracewarn.protocol.risk.config import RiskCalculationConfig, require_scale_of_two
from tracewarn.protocol.risk.windows_json import exposure_windows_from_json

__all__ = [
    "EXPECTED_FIELDS",
    "REFERENCE_DAY",
    "CaseFile",
    "CaseOutcome",
    "FieldDifference",
    "TestCase",
    "load_case_file",
    "run_cases",
]

EXPECTED_FIELDS: Final = (
    "expTotalRiskLevel",
    "expAgeOfMostRecentDateWithLowRisk",
    "expAgeOfMostRecentDateWithHighRisk",
    "expNumberOfDaysWithLowRisk",
    "expNumberOfDaysWithHighRisk",
    "expTotalMinimumDistinctEncountersWithLowRisk",
    "expTotalMinimumDistinctEncountersWithHighRisk",
)
# Any fixed day works (ages are relative); a constant keeps the runner free of clocks.
REFERENCE_DAY: Final = dt.date(2026, 1, 15)


@dataclass(frozen=True, slots=True)
class TestCase:
    """One `testCases[]` entry: the windows as JSON and the expected CWA fields."""

    __test__ = False  # not a pytest class, whatever its name

    description: str
    exposure_windows: tuple[Any, ...]
    expected: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CaseFile:
    config: RiskCalculationConfig
    cases: tuple[TestCase, ...]


@dataclass(frozen=True, slots=True)
class FieldDifference:
    field: str
    expected: Any
    actual: Any


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    index: int
    description: str
    differences: tuple[FieldDifference, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.differences and self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "description": self.description,
            "passed": self.passed,
            "differences": [
                {"field": d.field, "expected": d.expected, "actual": d.actual}
                for d in self.differences
            ],
            **({"error": self.error} if self.error else {}),
        }


def load_case_file(obj: Any, *, round_per_day: bool | None = None) -> CaseFile:
    """Parse a test-case file; `round_per_day` overrides the configuration's rounding switch.

    The configuration is validated as a whole (a bad one raises `ConfigurationError`); a
    malformed case is kept and fails on its own when run, so one typo does not hide the rest.
    """
    if not isinstance(obj, Mapping):
        raise ConfigurationError("test-case file: expected a JSON object")
    for key in ("defaultRiskCalculationConfiguration", "testCases"):
        if key not in obj:
            raise ConfigurationError(f"test-case file: missing {key}")
    config = RiskCalculationConfig.from_json(obj["defaultRiskCalculationConfiguration"])
    require_scale_of_two(config, "a CWA test-case file")
    if round_per_day is not None:
        config = config.with_rounding(round_per_day)
    raw_cases = obj["testCases"]
    if not isinstance(raw_cases, list):
        raise ConfigurationError("test-case file: testCases must be a list")
    cases = []
    for i, raw in enumerate(raw_cases):
        if not isinstance(raw, Mapping):
            raise ConfigurationError(f"testCases[{i}]: expected an object")
        windows = raw.get("exposureWindows")
        cases.append(
            TestCase(
                description=str(raw.get("description", f"case {i}")),
                exposure_windows=tuple(windows) if isinstance(windows, list) else (windows,),
                expected={key: raw[key] for key in EXPECTED_FIELDS if key in raw},
            )
        )
    return CaseFile(config, tuple(cases))


def run_cases(case_file: CaseFile, *, today: dt.date = REFERENCE_DAY) -> tuple[CaseOutcome, ...]:
    """Score every case and compare the seven expected fields."""
    outcomes = []
    for index, case in enumerate(case_file.cases):
        missing = [key for key in EXPECTED_FIELDS if key not in case.expected]
        if missing:
            outcomes.append(CaseOutcome(index, case.description, error=f"missing {missing}"))
            continue
        try:
            windows = exposure_windows_from_json(list(case.exposure_windows), today=today)
            actual = score_exposure_windows(windows, case_file.config).cwa_fields(today)
        except (RiskInputError, ProtocolError) as exc:
            outcomes.append(CaseOutcome(index, case.description, error=str(exc)))
            continue
        differences = tuple(
            FieldDifference(key, case.expected[key], actual[key])
            for key in EXPECTED_FIELDS
            if case.expected[key] != actual[key]
        )
        outcomes.append(CaseOutcome(index, case.description, differences))
    return tuple(outcomes)
