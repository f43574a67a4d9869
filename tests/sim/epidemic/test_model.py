"""Mechanisms of the population model on small populations (OpenABM-style mechanism tests)."""

from __future__ import annotations

import numpy as np
import pytest

from tracewarn.sim.epidemic import Model, build_people, preset, run
from tracewarn.sim.epidemic.disease import NEVER, draw_course, gamma_curve
from tracewarn.sim.epidemic.params import SMARTPHONE_BY_AGE
from tracewarn.sim.epidemic.people import edge_present
from tracewarn.sim.streams import stream


@pytest.fixture(scope="module")
def people():  # type: ignore[no-untyped-def]
    return build_people(preset("openabm", population=20_000, seed=4))


def test_households_are_complete_graphs(people) -> None:  # type: ignore[no-untyped-def]
    sizes = np.bincount(people.household)
    degree = np.diff(people.home.indptr)
    assert np.array_equal(degree, sizes[people.household] - 1)
    # UK table: mean household size 2.39.
    assert sizes.mean() == pytest.approx(2.39, abs=0.1)


def test_occupation_and_random_contact_means(people) -> None:  # type: ignore[no-untyped-def]
    degree = np.diff(people.work.indptr)
    working = (people.age >= 2) & (people.age <= 6)
    # Lattice degree 14 for working adults (7 a day at daily fraction 0.5); moved adults differ.
    assert np.median(degree[working]) == 14
    assert np.median(degree[people.age == 0]) == 20
    adults = (people.age >= 2) & (people.age < 7)
    assert people.random_count[adults].mean() == pytest.approx(4.0, rel=0.1)
    assert people.random_count[people.age < 2].mean() == pytest.approx(2.0, rel=0.1)


def test_edges_present_half_the_days() -> None:
    edges = np.arange(100_000, dtype=np.int64)
    today = edge_present(edges, 3, 1, 0.5)
    assert today.mean() == pytest.approx(0.5, abs=0.01)
    assert np.array_equal(today, edge_present(edges, 3, 1, 0.5))
    assert (today != edge_present(edges, 4, 1, 0.5)).mean() == pytest.approx(0.5, abs=0.01)


def test_app_users_by_age_follow_the_uptake_scale(people) -> None:  # type: ignore[no-untyped-def]
    for g, fraction in enumerate(SMARTPHONE_BY_AGE):
        group = people.age == g
        if group.sum() > 500:
            assert people.app[group].mean() == pytest.approx(fraction * 0.8, abs=0.01)
    fewer = build_people(preset("openabm", population=20_000, seed=4, uptake_scale=0.4))
    assert np.all(people.app[fewer.app]), "a lower uptake is a subset of a higher one"
    assert np.array_equal(fewer.household, people.household)
    assert np.array_equal(fewer.work.neighbour, people.work.neighbour)


def test_infectiousness_curve_and_course() -> None:
    curve = gamma_curve(5.5, 2.14)
    assert curve.sum() == pytest.approx(1.0)
    assert float(np.sum(np.arange(len(curve)) * curve)) == pytest.approx(6.0, abs=0.1)
    p = preset("openabm")
    age = np.full(50_000, 4, dtype=np.int8)
    course = draw_course(stream(1, "t"), p, age, 0)
    asym = np.isin(course.branch, [0])
    assert asym.mean() == pytest.approx(p.fraction_asymptomatic[4], abs=0.01)
    assert np.all(course.onset[asym] == NEVER)
    assert np.all(course.onset[~asym] >= 1)
    onset = course.onset[~asym]
    assert onset.mean() == pytest.approx(p.mean_time_to_symptoms, abs=0.1)
    assert course.multiplier[~asym].mean() > course.multiplier[asym].mean()


def test_no_app_means_no_uploads_or_warnings() -> None:
    summary = run(preset("tracewarn", population=3000, days=30, seed=2, uptake_scale=0.0))
    assert summary["uploads"] == 0
    assert summary["warnings"] == 0
    assert summary["total_infected"] > 10


def test_same_seed_same_run_and_streams_are_independent() -> None:
    p = preset("tracewarn", population=3000, days=30, seed=5)
    a, b = run(p), run(p)
    a.pop("seconds"), b.pop("seconds")
    assert a == b
    # Before the first warning arrives the app changes nothing: the epidemic is identical.
    with_app, without = Model(p), Model(p.with_(uptake_scale=0.0))
    for _ in range(p.days):
        with_app.step()
        without.step()
        if sum(sum(w[1:]) for w in with_app.daily.warnings):
            break
        assert np.array_equal(with_app.t_inf, without.t_inf)
    assert with_app.day < p.days, "warnings should start within 30 days"


def test_warned_people_quarantine_by_level() -> None:
    p = preset("openabm", population=4000, days=40, seed=1, quarantine_compliance_by_level=(1.0,))
    model = Model(p)
    for _ in range(p.days):
        model.step()
    warned = np.nonzero(model.warned)[0]
    assert len(warned) > 20
    # Everyone complies: each warned person was quarantined (warned quarantine recorded).
    assert np.all(model.warn_quar_until[warned] > 0)
    assert sum(model.daily.quarantined_warned) > 0


def test_isolation_reduces_the_epidemic() -> None:
    base = preset("openabm", population=5000, days=45, seed=3, uptake_scale=0.0)
    free = run(base.with_(self_quarantine_fraction=0.0, test_on_symptoms=False))
    isolating = run(base)
    assert isolating["total_infected"] < free["total_infected"]
