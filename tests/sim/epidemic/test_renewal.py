"""Ferretti et al. 2020: the R = 1 boundary of the renewal model, operator and simulation."""

from __future__ import annotations

import pytest

from tracewarn.sim.epidemic.renewal import boundary, branching_r, r_effective

# Minimum eps_T for R <= 1 at R0 = 2, instant isolation and tracing (derived from the paper's
# operator, SI eqs. 23-29; the black r = 0 line of Fig. 4).
CHECK_POINTS = [(0.5, 0.57), (0.6, 0.52), (0.7, 0.46), (0.8, 0.39), (1.0, 0.22)]


def test_sanity_values() -> None:
    assert r_effective(0.0, 0.0, 0.0) == pytest.approx(2.0, abs=1e-3)
    # Perfect isolation alone leaves the pre-symptomatic and asymptomatic part: 2 x 0.580.
    assert r_effective(1.0, 0.0, 0.0) == pytest.approx(1.16, abs=0.005)
    assert r_effective(0.6, 0.6, 0.0) == pytest.approx(0.93, abs=0.01)
    assert r_effective(0.8, 0.8, 0.0) == pytest.approx(0.67, abs=0.01)


@pytest.mark.parametrize(("eps_i", "eps_t"), CHECK_POINTS)
def test_operator_boundary(eps_i: float, eps_t: float) -> None:
    found = boundary(eps_i, 0.0)
    assert found is not None
    assert found == pytest.approx(eps_t, abs=0.05)


def test_no_control_with_three_day_delay() -> None:
    assert boundary(1.0, 3.0) is None
    assert r_effective(1.0, 1.0, 3.0) > 1.0


@pytest.mark.parametrize(("eps_i", "eps_t"), [CHECK_POINTS[0], CHECK_POINTS[3], CHECK_POINTS[4]])
def test_branching_simulation_crosses_one_at_the_boundary(eps_i: float, eps_t: float) -> None:
    """The stochastic renewal-model mode crosses R = 1 within +-0.05 of the published point."""
    assert branching_r(eps_i, eps_t - 0.05, 0.0, people=30_000) > 1.0
    assert branching_r(eps_i, eps_t + 0.05, 0.0, people=30_000) < 1.0


def test_branching_without_control_grows_at_r0() -> None:
    assert branching_r(0.0, 0.0, 0.0, people=30_000) == pytest.approx(2.0, abs=0.05)
