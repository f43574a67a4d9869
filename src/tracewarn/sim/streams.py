"""Named random streams: one `np.random.Generator` per component, derived from (seed, name).

Adding a component or drawing more numbers in one never changes what another component draws,
so a change to, say, the café schedule leaves households and the radio model reproducible.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["stream"]


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator of component `name` in a run seeded with `seed`."""
    digest = hashlib.sha256(name.encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *words])))
