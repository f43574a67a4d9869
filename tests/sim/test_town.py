"""The demo town: reproducible, streams independent, radio model shaped as the spec says."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tracewarn.sim import (
    SCAN_PERIOD_S,
    RadioModel,
    Setting,
    TownConfig,
    build_town,
    day_scans,
    stream,
)
from tracewarn.sim.truth import CLOSE_MINUTES, ground_truth

SMALL = TownConfig(people=60, days=2)


def test_same_seed_same_town_and_scans() -> None:
    a, b = build_town(SMALL, 11), build_town(SMALL, 11)
    for day in range(SMALL.days):
        sa, sb = day_scans(a, day), day_scans(b, day)
        assert np.array_equal(sa.time, sb.time)
        assert np.array_equal(sa.attenuation, sb.attenuation)
    assert not np.array_equal(build_town(SMALL, 12).household, a.household)


def test_changing_the_cafe_leaves_other_components_alone() -> None:
    a = build_town(SMALL, 5)
    b = build_town(dataclasses.replace(SMALL, cafe_daily_share=0.5), 5)
    assert np.array_equal(a.household, b.household)
    assert np.array_equal(a.worker, b.worker)
    cafe = [i for i, p in enumerate(a.places) if p.setting == Setting.CAFE]
    for day in range(SMALL.days):
        not_cafe_a = a.days[day].select(~np.isin(a.days[day].place, cafe))
        not_cafe_b = b.days[day].select(~np.isin(b.days[day].place, cafe))
        assert np.array_equal(not_cafe_a.start, not_cafe_b.start)
        assert np.array_equal(not_cafe_a.x, not_cafe_b.x)


def test_scans_pair_people_present_at_the_same_place_and_time() -> None:
    town = build_town(SMALL, 3)
    scans = day_scans(town, 0)
    assert len(scans) > 0
    assert not np.any(scans.observer == scans.advertiser)
    stays = town.days[0]
    for k in range(0, len(scans), max(1, len(scans) // 200)):
        for person in (scans.observer[k], scans.advertiser[k]):
            here = (stays.person == person) & (stays.place == scans.place[k])
            assert np.any((stays.start[here] <= scans.time[k]) & (scans.time[k] < stays.end[here]))


def test_attenuation_grows_with_distance_outside_metal_and_not_inside() -> None:
    rng = stream(1, "test")
    model = RadioModel()
    near = np.full(4000, 1.0)
    far = np.full(4000, 8.0)
    zero = np.zeros(4000)
    open_air = np.zeros(4000, dtype=bool)
    gap = (
        model.attenuation(rng, far, zero, open_air).mean()
        - model.attenuation(rng, near, zero, open_air).mean()
    )
    assert 15 < gap < 21  # 20 log10(8) = 18 dB
    metal = np.ones(4000, dtype=bool)
    metal_gap = (
        model.attenuation(rng, far, zero, metal).mean()
        - model.attenuation(rng, near, zero, metal).mean()
    )
    assert abs(metal_gap) < 1.5


@given(
    st.lists(st.floats(0.1, 50.0), min_size=2, max_size=20),
    st.floats(0.0, 16.0),
)
def test_without_noise_attenuation_never_decreases_with_distance(
    distances: list[float], offset: float
) -> None:
    model = RadioModel(shadowing_sd_db=0.0)
    d = np.sort(np.array(distances))
    att = model.attenuation(stream(0, "h"), d, np.full(len(d), offset), np.zeros(len(d), bool))
    assert np.all(np.diff(att) >= 0)
    assert np.all((att >= 0) & (att <= 255))


def test_ground_truth_close_contacts_include_the_household() -> None:
    town = build_town(TownConfig(people=80, days=2), 9)
    scans = [day_scans(town, d) for d in range(2)]
    sizes = np.bincount(town.household)
    case = int(np.flatnonzero(sizes[town.household] >= 3)[0])
    truth = ground_truth(town, scans, case)
    housemates = set(np.flatnonzero(town.household == town.household[case]).tolist()) - {case}
    assert housemates <= set(truth.contacts)
    for person, contact in truth.contacts.items():
        assert person != case
        for day, close in contact.close_minutes.items():
            assert close <= contact.nearby_minutes[day]
        assert contact.close == any(m >= CLOSE_MINUTES for m in contact.close_minutes.values())


@given(st.integers(0, 10_000), st.integers(0, 2))
@settings(max_examples=15, deadline=None)
def test_each_overlapping_pair_is_scanned_once_per_period(seed: int, day: int) -> None:
    # Independent count: a pair overlapping for T seconds is scanned floor or ceil of T / 300
    # times in each direction (the phase is random), and pairs that do not overlap never are.
    town = build_town(TownConfig(people=15, days=3), seed)
    stays = town.days[day]
    scans = day_scans(town, day)
    counted: dict[tuple[int, int, int], int] = {}
    for o, a, p in zip(scans.observer, scans.advertiser, scans.place, strict=True):
        counted[(int(o), int(a), int(p))] = counted.get((int(o), int(a), int(p)), 0) + 1
    expected: dict[tuple[int, int, int], float] = {}
    pairs: dict[tuple[int, int, int], int] = {}
    for i in range(len(stays)):
        for j in range(len(stays)):
            if stays.person[i] == stays.person[j] or stays.place[i] != stays.place[j]:
                continue
            overlap = min(stays.end[i], stays.end[j]) - max(stays.start[i], stays.start[j])
            if overlap > 0:
                key = (int(stays.person[i]), int(stays.person[j]), int(stays.place[i]))
                expected[key] = expected.get(key, 0) + overlap / SCAN_PERIOD_S
                pairs[key] = pairs.get(key, 0) + 1
    assert set(counted) <= set(expected)
    for key, periods in expected.items():
        # Each overlapping pair of stays contributes the floor or the ceiling of its periods.
        assert abs(counted.get(key, 0) - periods) < pairs[key], key
