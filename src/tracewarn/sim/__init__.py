"""The demo's town: households, a workplace, a café, trains, a checkpoint, and the radio between them.

Struct-of-arrays state, named random streams per component (`stream(seed, name)`), and no
plotting in the core (see `tracewarn.sim.plot`).
"""

from tracewarn.sim.encounters import SCAN_PERIOD_S, Scans, day_scans
from tracewarn.sim.radio import RadioModel
from tracewarn.sim.streams import stream
from tracewarn.sim.town import Place, Setting, Stays, Town, TownConfig, build_town

__all__ = [
    "SCAN_PERIOD_S",
    "Place",
    "RadioModel",
    "Scans",
    "Setting",
    "Stays",
    "Town",
    "TownConfig",
    "build_town",
    "day_scans",
    "stream",
]
