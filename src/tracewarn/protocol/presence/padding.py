"""Client-side plausible deniability: fake check-ins as request padding (CWA event registration [docs/specifications.md#cwa-events]).

A submission's size would otherwise tell an observer how many places a positive person visited.
With some probability (0 without check-ins, 0.005 with some) the client adds a random number of
fake check-ins, each as padding bytes in `SubmissionPayload.requestPadding`. The number follows
CWA's `p · q^(r · (s · (x + t))^u) + a·x² + b·x + c` with x ~ N(0, 1), rounded, which with the
defaults peaks at 100 fakes for x = 1.5 and is near 0 in the tails.

Deliberate deviation (CWA risk calculation v2 [docs/specifications.md#cwa-risk]): CWA pads 46 bytes per fake, yet a real report adds 106 bytes to
a submission (104 bytes of `CheckInProtectedReport` plus its field tag and length), so CWA's fakes
can be told apart by size. Our default pads 106 bytes per fake; `CWA_PLAUSIBLE_DENIABILITY`
keeps CWA's 46 for byte-exact behaviour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

from tracewarn.protocol.errors import ConfigurationError
from tracewarn.protocol.presence._random import RandomBytes, below, draw, standard_normal, uniform
from tracewarn.protocol.risk.levels import Range

__all__ = [
    "CWA_PLAUSIBLE_DENIABILITY",
    "DEFAULT_PLAUSIBLE_DENIABILITY",
    "MAX_FAKE_CHECK_INS",
    "REPORT_WIRE_SIZE",
    "FakeCountParameters",
    "PlausibleDeniabilityParameters",
    "fake_check_in_count",
    "fake_check_in_padding",
]

# 104 bytes of serialized CheckInProtectedReport + 1 tag byte + 1 length byte in SubmissionPayload.
REPORT_WIRE_SIZE: Final = 106
# Keeps the padding of one submission under CWA's 100 KB request limit (CWA server [docs/specifications.md#cwa-server]).
MAX_FAKE_CHECK_INS: Final = 900


# CWA's default randomNumberRange, wide enough that every normal draw falls inside.
_WHOLE_LINE: Final = Range(-9999, 9999)


@dataclass(frozen=True, slots=True)
class FakeCountParameters:
    """One parameter set of CWA's fake-count formula, used when x falls in `random_number_range`."""

    random_number_range: Range = _WHOLE_LINE
    p: float = 100.0
    q: float = 1.4
    r: float = -1.0
    s: float = 0.8
    t: float = -1.5
    u: float = 2.0
    a: float = 0.0
    b: float = 0.0
    c: float = 0.0

    def count(self, x: float) -> float:
        try:
            base = self.s * (x + self.t)
            value = self.p * math.pow(self.q, self.r * math.pow(base, self.u))
        except (ValueError, OverflowError, ZeroDivisionError):
            # A fractional exponent of a negative base, or an overflow: no sensible count.
            return 0.0
        return value + self.a * x * x + self.b * x + self.c


@dataclass(frozen=True, slots=True)
class PlausibleDeniabilityParameters:
    """CWA `plausible-deniability-parameters` plus the two fake probabilities."""

    check_in_sizes_bytes: tuple[int, ...] = (REPORT_WIRE_SIZE,)
    probability_if_no_check_ins: float = 0.0
    probability_if_some_check_ins: float = 0.005
    count_parameters: tuple[FakeCountParameters, ...] = (FakeCountParameters(),)

    def __post_init__(self) -> None:
        if not self.check_in_sizes_bytes or any(s < 0 for s in self.check_in_sizes_bytes):
            raise ConfigurationError("fake check-in sizes must be a non-empty list of sizes >= 0")
        for p in (self.probability_if_no_check_ins, self.probability_if_some_check_ins):
            if not 0.0 <= p <= 1.0:
                raise ConfigurationError(f"fake check-in probability {p} is outside [0, 1]")


DEFAULT_PLAUSIBLE_DENIABILITY: Final = PlausibleDeniabilityParameters()
CWA_PLAUSIBLE_DENIABILITY: Final = replace(
    DEFAULT_PLAUSIBLE_DENIABILITY, check_in_sizes_bytes=(46,)
)


def fake_check_in_count(
    random_bytes: RandomBytes,
    params: PlausibleDeniabilityParameters = DEFAULT_PLAUSIBLE_DENIABILITY,
) -> int:
    """How many fakes to add once the client decided to add some (CWA event registration [docs/specifications.md#cwa-events] formula)."""
    x = standard_normal(random_bytes)
    for parameters in params.count_parameters:
        if x in parameters.random_number_range:
            value = parameters.count(x)
            if not math.isfinite(value):
                return 0
            return max(0, min(MAX_FAKE_CHECK_INS, math.floor(value + 0.5)))
    return 0


def fake_check_in_padding(
    random_bytes: RandomBytes,
    *,
    has_check_ins: bool,
    params: PlausibleDeniabilityParameters = DEFAULT_PLAUSIBLE_DENIABILITY,
) -> bytes:
    """Random padding bytes for `requestPadding`: empty, or one block per fake check-in."""
    probability = (
        params.probability_if_some_check_ins
        if has_check_ins
        else params.probability_if_no_check_ins
    )
    if probability == 0.0 or uniform(random_bytes) >= probability:
        return b""
    sizes = params.check_in_sizes_bytes
    total = sum(
        sizes[below(random_bytes, len(sizes))]
        for _ in range(fake_check_in_count(random_bytes, params))
    )
    return draw(random_bytes, total) if total else b""
