"""The demo's town: households, a workplace, a café, trains, a checkpoint, and the radio between them.

Struct-of-arrays state, named random streams per component (`stream(seed, name)`), and no
plotting in the core (`tracewarn.sim.plot` is imported only by the CLI). `run_demo` plays the
whole story against a backend; see docs/demo.md.
"""

from tracewarn.sim._server import DemoBackend, demo_backend
from tracewarn.sim.demo import DemoConfig, choose_case, demo_clock, run_demo
from tracewarn.sim.encounters import SCAN_PERIOD_S, Scans, day_scans
from tracewarn.sim.population import Population, place_qr_urls
from tracewarn.sim.radio import RadioModel
from tracewarn.sim.streams import stream
from tracewarn.sim.town import Place, Setting, Stays, Town, TownConfig, build_town
from tracewarn.sim.truth import Contact, GroundTruth, ground_truth

__all__ = [
    "SCAN_PERIOD_S",
    "Contact",
    "DemoBackend",
    "DemoConfig",
    "GroundTruth",
    "Place",
    "Population",
    "RadioModel",
    "Scans",
    "Setting",
    "Stays",
    "Town",
    "TownConfig",
    "build_town",
    "choose_case",
    "day_scans",
    "demo_backend",
    "demo_clock",
    "ground_truth",
    "place_qr_urls",
    "run_demo",
    "stream",
]
