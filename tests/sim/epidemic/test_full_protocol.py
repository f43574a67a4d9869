"""One truth, two speeds: the fast mode and the full protocol warn the same people, same day.

The full-protocol run makes real TEKs and RPIs, writes sightings on real virtual devices,
uploads through the real backend, publishes signed packages and matches on the devices; the
fast mode scores tabulated windows. On the same seed, the set of (person, level, day) warned
must be identical, and non-empty (several uploads and warnings happen in this town).
"""

from __future__ import annotations

import pytest

from tracewarn.sim.epidemic import preset
from tracewarn.sim.epidemic.full_protocol import full_protocol_model, full_protocol_params
from tracewarn.sim.epidemic.model import Model
from tracewarn.sim.epidemic.params import Params

POPULATION, DAYS, SEED = 200, 25, 3  # ~10 s: 11 uploads, ~90 warnings at 3 levels


def _fast_warnings(seed: int) -> set[tuple[int, int, int]]:
    model = Model(full_protocol_params(_params(seed)))
    for _ in range(DAYS):
        model.step()
    return set(model.warning_log)


def _params(seed: int) -> Params:
    return preset("tracewarn", population=POPULATION, days=DAYS, seed=seed, uptake_scale=1.5)


def test_fast_and_full_protocol_give_the_same_warnings() -> None:
    seed = SEED
    with full_protocol_model(_params(seed)) as model:
        for _ in range(DAYS):
            model.step()
        full = set(model.warning_log)
        uploads = int(model.app.uploaded.sum())
        syncs = model.app.syncs  # type: ignore[attr-defined]
    fast = _fast_warnings(seed)
    assert uploads >= 3 and syncs > 0
    assert len({level for _, level, _ in fast}) >= 2  # more than one warning level reached
    assert len(fast) >= 20
    assert full == fast


def test_full_protocol_refuses_a_large_town() -> None:
    with pytest.raises(ValueError, match="at most 2,000"):
        full_protocol_params(preset("tracewarn", population=2_001))
