"""The simulator's vectorised warning decision equals tracewarn's risk scoring called directly."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tracewarn.protocol.risk import score_exposure_windows, score_window
from tracewarn.sim.epidemic.risk_table import (
    CONFIGS,
    MAX_ATTENUATION,
    RiskTable,
    encoding_of_trl,
    risk_table,
    window_for,
)

START = dt.date(2026, 3, 1)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_total_levels_equal_score_exposure_windows(name: str) -> None:
    table = risk_table(name)
    config = CONFIGS[name]
    rng = np.random.default_rng(5)
    n = 4000
    receiver = rng.integers(0, 300, n)
    day = rng.integers(0, 14, n)
    trl = rng.integers(1, 9, n)
    att = rng.integers(40, 95, n)
    scans = rng.integers(1, 7, n)
    who, level = table.total_levels(receiver, day, table.window_time(trl, att, scans))
    fast = dict(zip(who.tolist(), level.tolist(), strict=True))
    seen_levels = set()
    for r in np.unique(receiver).tolist():
        mine = np.nonzero(receiver == r)[0]  # arrival order, as the phone stores them
        windows = [
            window_for(
                config, int(trl[i]), int(att[i]), int(scans[i]), START + dt.timedelta(int(day[i]))
            )
            for i in mine
        ]
        direct = score_exposure_windows(windows, config).level
        assert fast[r] == direct, f"receiver {r}"
        seen_levels.add(direct)
    assert len(seen_levels) == len(config.scale), "the sample should reach every level"


def test_window_times_are_the_scorer_s() -> None:
    table = risk_table("four-level")
    config = table.config
    for trl, att, scans in [(8, 50, 6), (7, 70, 3), (3, 60, 1), (1, 50, 6), (6, 78, 6), (8, 90, 6)]:
        scored = score_window(window_for(config, trl, att, scans), config)
        expected = scored.normalized_time if scored.level is not None else 0.0
        got = float(table.window_time(np.array([trl]), np.array([att]), np.array([scans]))[0])
        assert got == expected


def test_trl_encoding_round_trips() -> None:
    config = CONFIGS["four-level"]
    for trl in range(1, 9):
        report_type, infectiousness = encoding_of_trl(config, trl)
        enc = config.trl_encoding
        offset = enc.report_type_offset(report_type)
        assert offset is not None
        assert offset + enc.infectiousness_offset(infectiousness) == trl


def test_attenuation_beyond_the_table_weighs_like_its_edge() -> None:
    table = RiskTable(CONFIGS["cwa"])
    far = table.window_time(np.array([8]), np.array([MAX_ATTENUATION + 50]), np.array([6]))
    edge = table.window_time(np.array([8]), np.array([MAX_ATTENUATION]), np.array([6]))
    assert far[0] == edge[0]
