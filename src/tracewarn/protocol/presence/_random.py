"""Turning caller-supplied random bytes into the few distributions presence tracing needs.

The protocol never draws randomness itself (STYLE §1); callers pass `random_bytes(n) -> bytes`,
`os.urandom` in production and a seeded stream in tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable, MutableSequence
from typing import TypeVar

from tracewarn.protocol.errors import CryptoFormatError

RandomBytes = Callable[[int], bytes]
T = TypeVar("T")

_MAX_REJECTIONS = 64


def draw(random_bytes: RandomBytes, n: int) -> bytes:
    data = random_bytes(n)
    if len(data) != n:
        raise CryptoFormatError(f"random source returned {len(data)} bytes, {n} requested")
    return data


def uniform(random_bytes: RandomBytes) -> float:
    """A float in [0, 1) with 53 random bits."""
    return (int.from_bytes(draw(random_bytes, 8), "big") >> 11) / float(1 << 53)


def below(random_bytes: RandomBytes, n: int) -> int:
    """An unbiased integer in [0, n), by rejection sampling on 32-bit draws."""
    if not 0 < n <= 1 << 32:
        raise ValueError(f"cannot draw below {n}")
    limit = (1 << 32) - (1 << 32) % n
    for _ in range(_MAX_REJECTIONS):
        value = int.from_bytes(draw(random_bytes, 4), "big")
        if value < limit:
            return value % n
    # Each draw is rejected with probability < 1/2, so 64 rejections mean a broken source.
    raise CryptoFormatError("random source keeps returning the same bytes")


def shuffle(items: MutableSequence[T], random_bytes: RandomBytes) -> None:
    """Fisher-Yates in place."""
    for i in range(len(items) - 1, 0, -1):
        j = below(random_bytes, i + 1)
        items[i], items[j] = items[j], items[i]


def standard_normal(random_bytes: RandomBytes) -> float:
    """N(0, 1) by Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]."""
    u1 = uniform(random_bytes)
    u2 = uniform(random_bytes)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
