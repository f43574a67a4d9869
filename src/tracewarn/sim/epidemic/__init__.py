"""Population simulator: an epidemic in a region and the app's real risk logic (docs/simulator.md).

Beside the demo town (`tracewarn.sim`, which drives real virtual phones), this package simulates
up to millions of people as arrays: OpenABM-Covid19's households, occupation and random networks
and disease course (`people`, `disease`, `model`), the app layer scored by tracewarn's own
`protocol.risk` (`app`, `risk_table`), runs and summaries (`runner`), Dask sweeps (`sweep`),
Ferretti et al.'s renewal model (`renewal`) and plots (`report`, never imported by the core).
"""

from tracewarn.sim.epidemic.model import Model
from tracewarn.sim.epidemic.params import PRESETS, Params, preset
from tracewarn.sim.epidemic.people import People, build_people
from tracewarn.sim.epidemic.risk_table import RiskTable, risk_table
from tracewarn.sim.epidemic.runner import run, run_with_counterfactual, summarise

__all__ = [
    "PRESETS",
    "Model",
    "Params",
    "People",
    "RiskTable",
    "build_people",
    "preset",
    "risk_table",
    "run",
    "run_with_counterfactual",
    "summarise",
]
