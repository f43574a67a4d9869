"""From stays to Bluetooth scans and to the ground truth of who was close to whom.

Two people at the same place at the same time see each other's advertisements: every phone
scans about every 5 minutes (GAEN: scans every 3.5-5 min), so a pair overlapping for T seconds
produces about T / 300 scans, with a random phase per pair. Each scan is heard in both
directions with independent shadowing, the receiver's calibration residual and both phones'
carriage offsets (`radio`). The true distance of each scan (position in the place, times a small
movement factor) is kept as the ground truth. Everything is vectorised over pairs and scans; the
only Python loop is over places (a few dozen), never over people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracewarn.sim.radio import RadioModel
from tracewarn.sim.streams import stream
from tracewarn.sim.town import Stays, Town

__all__ = ["SCAN_PERIOD_S", "Scans", "day_scans"]

SCAN_PERIOD_S = 300
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(slots=True)
class Scans:
    """Directed scans: `observer` heard `advertiser` at `time` with `attenuation` dB.

    `heard` is False where the attenuation is beyond the receiver's sensitivity: such rows stay
    in the table (they are ground truth: the people were there) but produce no observation.
    """

    observer: IntArray
    advertiser: IntArray
    place: IntArray
    time: IntArray
    distance: FloatArray
    attenuation: IntArray
    heard: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.observer)


def _pairs(stays: Stays) -> tuple[IntArray, IntArray]:
    """Index pairs (a, b), a < b, of stays at the same place that overlap in time."""
    order = np.argsort(stays.place, kind="stable")
    places, first, counts = np.unique(stays.place[order], return_index=True, return_counts=True)
    left: list[IntArray] = []
    right: list[IntArray] = []
    for start, count in zip(first, counts, strict=True):
        if count < 2:
            continue
        i, j = np.triu_indices(int(count), 1)
        a, b = order[start + i], order[start + j]
        keep = (stays.person[a] != stays.person[b]) & (
            np.minimum(stays.end[a], stays.end[b]) > np.maximum(stays.start[a], stays.start[b])
        )
        left.append(a[keep])
        right.append(b[keep])
    del places
    if not left:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(left).astype(np.int64), np.concatenate(right).astype(np.int64)


def day_scans(town: Town, day: int, radio: RadioModel | None = None) -> Scans:
    """All scans of one simulated day, in both directions."""
    radio = radio or RadioModel()
    stays = town.days[day]
    rng = stream(town.seed, f"radio/{day}")
    calibration = stream(town.seed, "calibration").normal(0.0, radio.calibration_sd_db, town.people)
    a, b = _pairs(stays)
    lo = np.maximum(stays.start[a], stays.start[b])
    hi = np.minimum(stays.end[a], stays.end[b])
    phase = rng.integers(0, SCAN_PERIOD_S, size=len(a))
    first = lo + (phase - lo) % SCAN_PERIOD_S
    n_scans = np.maximum((hi - first + SCAN_PERIOD_S - 1) // SCAN_PERIOD_S, 0)
    pair = np.repeat(np.arange(len(a)), n_scans)
    offset_in_pair = np.arange(len(pair)) - np.repeat(np.cumsum(n_scans) - n_scans, n_scans)
    time = first[pair] + offset_in_pair * SCAN_PERIOD_S
    sa, sb = a[pair], b[pair]
    base = np.hypot(stays.x[sa] - stays.x[sb], stays.y[sa] - stays.y[sb])
    distance = base * np.exp(rng.normal(0.0, 0.25, size=len(pair)))
    metal = np.array([town.places[p].metal for p in stays.place[sa]], dtype=bool)
    carriage = radio.carriage(rng, len(stays))
    pa, pb = stays.person[sa], stays.person[sb]
    both = carriage[sa] + carriage[sb]
    att_ab = radio.attenuation(rng, distance, both + calibration[pb], metal)  # b hears a
    att_ba = radio.attenuation(rng, distance, both + calibration[pa], metal)  # a hears b
    attenuation = np.concatenate([att_ab, att_ba])
    return Scans(
        observer=np.concatenate([pb, pa]),
        advertiser=np.concatenate([pa, pb]),
        place=np.concatenate([stays.place[sa], stays.place[sa]]),
        time=np.concatenate([time, time]).astype(np.int64),
        distance=np.concatenate([distance, distance]),
        attenuation=attenuation,
        heard=attenuation <= radio.max_attenuation_db,
    )
