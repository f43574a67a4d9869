"""Bluetooth attenuation from distance: the log-distance path-loss model with shadowing.

BLE attenuation model [docs/specifications.md#ble-attenuation]: A(d) = A0 + 10 n log10(d / 1 m)
+ carriage offsets + per-phone calibration residual + N(0, sigma^2), quantised to whole dB and
clipped to 0..255. A0 = 47 dB, n = 2, sigma = 5 dB, residual N(0, 3 dB) per phone, carriage
{hand 0, pocket +5, bag +8} dB. Errors are skewed toward higher attenuation, as measured in the
field. Inside a metal vehicle the distance dependence is gone (Leith & Farrell 2020), so
attenuation there is drawn from one flat distribution whatever the distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["CARRIAGE_OFFSETS_DB", "RadioModel"]

CARRIAGE_OFFSETS_DB = np.array([0.0, 5.0, 8.0])  # hand, pocket, bag
CARRIAGE_PROBABILITIES = np.array([0.2, 0.5, 0.3])


@dataclass(frozen=True, slots=True)
class RadioModel:
    """Parameters of the attenuation model; defaults are the spec's decision 10."""

    a0_db: float = 47.0
    path_loss_exponent: float = 2.0
    shadowing_sd_db: float = 5.0
    calibration_sd_db: float = 3.0
    metal_mean_db: float = 60.0
    metal_sd_db: float = 8.0
    # A scan hears an advertisement only above the receiver's sensitivity.
    max_attenuation_db: float = 90.0

    def attenuation(
        self,
        rng: np.random.Generator,
        distance_m: npt.NDArray[np.float64],
        offsets_db: npt.NDArray[np.float64],
        metal: npt.NDArray[np.bool_],
    ) -> npt.NDArray[np.int64]:
        """Attenuation in dB for each scan (vectorised over all scans of a day)."""
        d = np.maximum(distance_m, 0.1)
        free = self.a0_db + 10.0 * self.path_loss_exponent * np.log10(d)
        shadow = rng.normal(0.0, self.shadowing_sd_db, size=d.shape)
        flat = rng.normal(self.metal_mean_db, self.metal_sd_db, size=d.shape)
        value = np.where(metal, flat, free + shadow) + offsets_db
        return np.clip(np.rint(value), 0, 255).astype(np.int64)

    def carriage(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.float64]:
        """Carriage offset of each phone for one session (hand, pocket or bag)."""
        choice = rng.choice(len(CARRIAGE_OFFSETS_DB), size=size, p=CARRIAGE_PROBABILITIES)
        return np.asarray(CARRIAGE_OFFSETS_DB[choice], dtype=np.float64)
