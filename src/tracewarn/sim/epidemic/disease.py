"""Disease course at infection: OpenABM-Covid19's branches and gamma transition times.

OpenABM `new_infection` (src/disease.c) and `initialise_transition_time_distributions`
(src/strain.c): the branch is drawn by age (asymptomatic, mild, otherwise severe); every later
event day is scheduled at infection from gamma distributions given by mean and SD, rounded to
whole days and at least 1; symptoms -> hospital is a "shifted Bernoulli" (floor or floor + 1).
Severe cases go to hospital with `hospitalised_fraction`, hospitalised cases become critical with
`critical_fraction`, and critical cases die with `fatality_fraction` (ICU allocation is not
modelled: every critical case is treated as in ICU).

Infectiousness (OpenABM-Covid19 model [docs/specifications.md#openabm]): one gamma curve over days since infection, discretised as daily CDF
increments and normalised, times a state factor (asymptomatic, mild, 1) and a per-person
overdispersion multiplier drawn from gamma(shape 1/sd^2, scale sd^2) as OpenABM's code does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracewarn.sim.epidemic.params import Params

__all__ = ["ASYMPTOMATIC", "MILD", "NEVER", "SEVERE", "Course", "draw_course", "gamma_curve"]

NEVER = np.iinfo(np.int32).max // 2
ASYMPTOMATIC, MILD, SEVERE = 0, 1, 2
MAX_INFECTIOUS_DAYS = 60  # the curve's mass beyond day 60 is < 1e-12 for any listed parameters

I64 = npt.NDArray[np.int64]


def gamma_cdf(x: float, shape: float, scale: float) -> float:
    """Regularised lower incomplete gamma P(shape, x/scale) by its series (x >= 0)."""
    z = x / scale
    if z <= 0:
        return 0.0
    term = 1.0 / shape
    total = term
    for k in range(1, 1000):
        term *= z / (shape + k)
        total += term
        if term < total * 1e-16:
            break
    return min(1.0, total * math.exp(-z + shape * math.log(z) - math.lgamma(shape)))


def gamma_curve(mean: float, sd: float, days: int = MAX_INFECTIOUS_DAYS) -> npt.NDArray[np.float64]:
    """w[k] = F(k) - F(k - 1) for k = 0..days (w[0] = 0), normalised to sum 1."""
    shape, scale = mean * mean / (sd * sd), sd * sd / mean
    cdf = np.array([gamma_cdf(float(k), shape, scale) for k in range(days + 1)])
    w = np.diff(cdf, prepend=0.0)
    w[0] = 0.0
    return np.asarray(w / w.sum(), dtype=np.float64)


def _gamma_days(rng: np.random.Generator, mean: float, sd: float, size: int) -> I64:
    shape, scale = mean * mean / (sd * sd), sd * sd / mean
    return np.maximum(1, np.rint(rng.gamma(shape, scale, size=size))).astype(np.int64)


def _shifted_bernoulli(rng: np.random.Generator, mean: float, size: int) -> I64:
    base = math.floor(mean)
    return base + (rng.random(size) < mean - base).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Course:
    """Scheduled days (absolute; NEVER if not happening) of newly infected people."""

    branch: npt.NDArray[np.int8]
    onset: I64
    hospital: I64
    death: I64
    recovery: I64  # end of infectiousness: recovery or death
    multiplier: npt.NDArray[np.float64]  # state factor x overdispersion


def draw_course(rng: np.random.Generator, p: Params, age: npt.NDArray[np.int8], day: int) -> Course:
    """Draw the whole course of people of age groups `age` infected on `day`."""
    n = len(age)
    u = rng.random(n)
    asym = u < np.array(p.fraction_asymptomatic)[age]
    mild = ~asym & (u < (np.array(p.fraction_asymptomatic) + np.array(p.mild_fraction))[age])
    branch = np.full(n, SEVERE, dtype=np.int8)
    branch[asym] = ASYMPTOMATIC
    branch[mild] = MILD

    onset = day + _gamma_days(rng, p.mean_time_to_symptoms, p.sd_time_to_symptoms, n)
    onset[asym] = NEVER
    recover_sym = onset + _gamma_days(rng, p.mean_time_to_recover, p.sd_time_to_recover, n)
    recover_asym = day + _gamma_days(
        rng, p.mean_asymptomatic_to_recovery, p.sd_asymptomatic_to_recovery, n
    )
    recovery = np.where(asym, recover_asym, recover_sym)

    severe = branch == SEVERE
    hosp = severe & (rng.random(n) < np.array(p.hospitalised_fraction)[age])
    hospital = np.full(n, NEVER, dtype=np.int64)
    hospital[hosp] = onset[hosp] + _shifted_bernoulli(rng, p.mean_time_to_hospital, int(hosp.sum()))
    crit = hosp & (rng.random(n) < np.array(p.critical_fraction)[age])
    t_crit = hospital + _gamma_days(rng, p.mean_time_to_critical, p.sd_time_to_critical, n)
    hosp_recover = hospital + _gamma_days(
        rng, p.mean_time_hospitalised_recovery, p.sd_time_hospitalised_recovery, n
    )
    recovery = np.where(hosp & ~crit, hosp_recover, recovery)
    dies = crit & (rng.random(n) < np.array(p.fatality_fraction)[age])
    death = np.full(n, NEVER, dtype=np.int64)
    death[dies] = t_crit[dies] + _gamma_days(
        rng, p.mean_time_to_death, p.sd_time_to_death, int(dies.sum())
    )
    survive = t_crit + _gamma_days(rng, p.mean_time_critical_survive, p.sd_time_critical_survive, n)
    recovery = np.where(crit & ~dies, survive, recovery)
    recovery = np.where(dies, death, recovery)

    factor = np.ones(n)
    factor[asym] = p.asymptomatic_infectious_factor
    factor[mild] = p.mild_infectious_factor
    s2 = p.sd_infectiousness_multiplier**2
    overdispersion = rng.gamma(1.0 / s2, s2, size=n) if s2 > 0 else np.ones(n)
    return Course(branch, onset, hospital, death, recovery, factor * overdispersion)
