"""Unbiased choices and shuffles from the server's injectable `random_bytes` (a CSPRNG)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["randbelow", "shuffle"]

T = TypeVar("T")


def randbelow(n: int, random_bytes: Callable[[int], bytes]) -> int:
    """A uniform integer in [0, n) by rejection sampling (no modulo bias)."""
    if n <= 0:
        raise ValueError("n must be positive")
    bits = (n - 1).bit_length()
    if bits == 0:
        return 0
    size = (bits + 7) // 8
    for _ in range(10_000):  # each try succeeds with probability > 1/2
        value = int.from_bytes(random_bytes(size), "big") >> (8 * size - bits)
        if value < n:
            return value
    raise RuntimeError("random_bytes never produced a value in range")


def shuffle(items: list[T], random_bytes: Callable[[int], bytes]) -> list[T]:
    """`items` shuffled in place (Fisher-Yates) and returned."""
    for i in range(len(items) - 1, 0, -1):
        j = randbelow(i + 1, random_bytes)
        items[i], items[j] = items[j], items[i]
    return items
