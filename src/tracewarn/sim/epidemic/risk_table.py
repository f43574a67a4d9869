"""The phone's warning decision, vectorised by tabulating tracewarn's own risk scoring.

The simulator never re-implements a threshold. Every exposure window it makes has one
attenuation for all its scans (scans 5 minutes apart, at most 6 in a 30-minute window), so a
window is fully described by (transmission risk level, attenuation in dB, number of scans). For
each such triple `RiskTable` builds the real `ExposureWindow` and asks
`tracewarn.protocol.risk.score_window` for its normalized time and whether it counts. A phone's
day is then the sum of its counted windows' normalized times in arrival order (what
`score_exposure_windows` does, and `np.bincount` adds in index order, so the sums are equal bit
for bit), rounded by the configuration's own `round_normalized_time` and mapped by its own
`day_levels`. The total level is the highest day level. tests/sim/epidemic/test_risk_table.py
checks the result against `score_exposure_windows` called directly on the same windows.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from tracewarn.protocol.exposure_window import (
    ExposureWindow,
    Infectiousness,
    ReportType,
    ScanInstance,
)
from tracewarn.protocol.risk import (
    CWA_1_15,
    FOUR_LEVEL_CONFIG,
    RiskCalculationConfig,
    round_normalized_time,
    score_window,
)

__all__ = [
    "MAX_ATTENUATION",
    "SCAN_SECONDS",
    "WINDOW_SCANS",
    "RiskTable",
    "risk_table",
    "window_for",
]

SCAN_SECONDS = 300
WINDOW_SCANS = 6  # a window covers at most 30 minutes
MAX_ATTENUATION = 120  # attenuations above this weigh like this one (and are rarely heard)
TRLS = range(1, 9)
_DATE = dt.date(2026, 1, 1)

CONFIGS: dict[str, RiskCalculationConfig] = {"four-level": FOUR_LEVEL_CONFIG, "cwa": CWA_1_15}


def encoding_of_trl(config: RiskCalculationConfig, trl: int) -> tuple[int, int]:
    """(report type, infectiousness) that the configuration's TRL encoding turns into `trl`.

    Keys travel with their TRL; the CDN carries it as a report type and days since onset that an
    ENF v2 phone turns back into the same TRL (CWA transmission-risk-encoding).
    """
    enc = config.trl_encoding
    for report_type in (
        ReportType.CONFIRMED_TEST,
        ReportType.CONFIRMED_CLINICAL_DIAGNOSIS,
        ReportType.SELF_REPORT,
        ReportType.RECURSIVE,
    ):
        for infectiousness in (Infectiousness.STANDARD, Infectiousness.HIGH):
            offset = enc.report_type_offset(report_type)
            if offset is not None and offset + enc.infectiousness_offset(infectiousness) == trl:
                return int(report_type), int(infectiousness)
    raise ValueError(f"TRL {trl} cannot be encoded by this configuration")


def window_for(
    config: RiskCalculationConfig, trl: int, attenuation: int, scans: int, date: dt.date = _DATE
) -> ExposureWindow:
    """The real exposure window the simulator's (TRL, attenuation, scans) stands for."""
    report_type, infectiousness = encoding_of_trl(config, trl)
    scan = ScanInstance(attenuation, attenuation, SCAN_SECONDS)
    return ExposureWindow(date, report_type, infectiousness, 0, (scan,) * scans)


class RiskTable:
    """Real scorer output over the (TRL, attenuation, scans) grid, plus day/total levels."""

    def __init__(self, config: RiskCalculationConfig) -> None:
        self.config = config
        self.levels = len(config.scale)
        shape = (len(TRLS) + 1, MAX_ATTENUATION + 1, WINDOW_SCANS + 1)
        self.normalized_time = np.zeros(shape)
        for trl in TRLS:
            report_type, infectiousness = encoding_of_trl(config, trl)
            for att in range(MAX_ATTENUATION + 1):
                scan = ScanInstance(att, att, SCAN_SECONDS)
                for scans in range(1, WINDOW_SCANS + 1):
                    window = ExposureWindow(_DATE, report_type, infectiousness, 0, (scan,) * scans)
                    scored = score_window(window, config)
                    if scored.level is not None:  # dropped windows do not count toward the day
                        self.normalized_time[trl, att, scans] = scored.normalized_time
        self._day_level_cache: dict[float, int] = {}

    def window_time(
        self, trl: npt.NDArray[np.int64], att: npt.NDArray[np.int64], scans: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Normalized time each window adds to its day (0 for a window the scorer drops)."""
        a = np.clip(att, 0, MAX_ATTENUATION)
        return np.asarray(self.normalized_time[trl, a, scans], dtype=np.float64)

    def day_level(self, day_sums: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Level of each day from its summed normalized time (0 when the day has no level)."""
        uniq, inverse = np.unique(day_sums, return_inverse=True)
        levels = np.array([self._level_of(float(v)) for v in uniq], dtype=np.int64)
        return levels[inverse.reshape(-1)]

    def _level_of(self, total: float) -> int:
        cached = self._day_level_cache.get(total)
        if cached is None:
            value = round_normalized_time(total) if self.config.round_per_day else total
            level = self.config.day_levels.level_for(value)
            cached = 0 if level is None else int(level)
            self._day_level_cache[total] = cached
        return cached

    def total_levels(
        self,
        receiver: npt.NDArray[np.int64],
        day: npt.NDArray[np.int64],
        window_time: npt.NDArray[np.float64],
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(receivers, their total level) from windows in arrival order.

        Per (receiver, day) the windows' normalized times are summed in the order given (as the
        phone does), each day gets its level, and a receiver's level is its highest day level.
        """
        if len(receiver) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        key = receiver * 100_000 + day
        uniq, group = np.unique(key, return_inverse=True)
        sums = np.bincount(group.reshape(-1), weights=window_time, minlength=len(uniq)).astype(
            np.float64
        )
        levels = self.day_level(sums)
        people = uniq // 100_000
        who, first = np.unique(people, return_inverse=True)
        best = np.zeros(len(who), dtype=np.int64)
        np.maximum.at(best, first.reshape(-1), levels)
        return who, best


@lru_cache(maxsize=4)
def risk_table(name: str) -> RiskTable:
    """The table of a named shipped configuration (built once per process)."""
    return RiskTable(CONFIGS[name])
