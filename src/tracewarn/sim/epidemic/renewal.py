"""Ferretti et al. 2020's renewal model: isolation and instant tracing, and the R = 1 boundary.

Ferretti, Wymant et al., "Quantifying SARS-CoV-2 transmission suggests epidemic control with
digital contact tracing", Science 368:eabb6936 (2020), supplementary equations 23-29. With
isolation success eps_I, tracing (quarantine) success eps_T and a delay d from symptom onset to
isolation and quarantine, the next-generation operator at growth rate 0 acts on the density y(rho)
of "age of the infector at transmission":

    (O y)(tau) = beta(tau) (1 - eps_I s(tau - d))
                 * integral [1 - eps_T (1 - RE/R0) (s(rho + tau - d) - s(rho))+ / (1 - s(rho))] y(rho) drho

with beta = R0 w (Weibull generation time, shape 2.826, scale 5.665), s(tau) the probability of
having shown symptoms by tau (lognormal incubation, meanlog 1.644, sdlog 0.363, times the
symptomatic share of effective infectiousness (1 - Pa) / (1 - Pa + Pa xa), Pa = 0.4, xa = 0.1),
and environmental transmission RE/R0 = 0.1 untraceable but stopped by isolation. R_eff is its
largest eigenvalue; `boundary` finds the eps_T at which R_eff = 1 by bisection.

`branching_r` is the same model as a stochastic individual simulation (generations of infected
people with their own onset, isolation and quarantine times), an independent check of the
operator: both must give the published boundary (docs/simulator.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracewarn.sim.streams import stream

__all__ = ["FerrettiParams", "boundary", "branching_r", "r_effective"]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FerrettiParams:
    """The paper's central values (Table/SI Fig. 9 caption)."""

    r0: float = 2.0
    weibull_shape: float = 2.826
    weibull_scale: float = 5.665
    incubation_meanlog: float = 1.644
    incubation_sdlog: float = 0.363
    p_asymptomatic: float = 0.4
    x_asymptomatic: float = 0.1
    environmental_share: float = 0.1
    step_days: float = 0.05
    horizon_days: float = 25.0


def _weibull_pdf(t: F64, k: float, lam: float) -> F64:
    x = np.maximum(t, 0.0) / lam
    return np.asarray((k / lam) * x ** (k - 1) * np.exp(-(x**k)), dtype=np.float64)


def _lognormal_cdf(t: F64, mu: float, sigma: float) -> F64:
    out = np.zeros_like(t)
    pos = t > 0
    z = (np.log(t[pos]) - mu) / (sigma * math.sqrt(2.0))
    out[pos] = 0.5 * (1.0 + np.vectorize(math.erf)(z))
    return out


def _symptomatic_share(p: FerrettiParams) -> float:
    pa, xa = p.p_asymptomatic, p.x_asymptomatic
    return (1.0 - pa) / (1.0 - pa + pa * xa)


def _incubation_cdf(t: F64, p: FerrettiParams) -> F64:
    return _lognormal_cdf(t, p.incubation_meanlog, p.incubation_sdlog)


def r_effective(
    eps_i: float, eps_t: float, delay_days: float, p: FerrettiParams | None = None
) -> float:
    """R_eff = largest eigenvalue of the discretised operator at growth rate 0."""
    p = p or FerrettiParams()
    h = p.step_days
    n = int(p.horizon_days / h)
    tau = (np.arange(n, dtype=np.float64) + 0.5) * h
    beta = p.r0 * _weibull_pdf(tau, p.weibull_shape, p.weibull_scale)
    share = _symptomatic_share(p)
    iso = 1.0 - eps_i * share * _incubation_cdf(np.asarray(tau - delay_days, np.float64), p)
    s_rho = share * _incubation_cdf(tau, p)
    # tau_i + rho_j - d = (i + j + 1) h - d: evaluate s once on that grid and index it.
    s_sum = share * _incubation_cdf(
        (np.arange(2 * n - 1, dtype=np.float64) + 1.0) * h - delay_days, p
    )
    later = s_sum[np.add.outer(np.arange(n), np.arange(n))]
    # traced[i, j]: infectee at age tau_i, infected when the infector was rho_j old, already
    # quarantined (infector's onset in (rho, rho + tau - d], given it was after rho).
    traced = np.maximum(later - s_rho[None, :], 0.0) / np.maximum(1.0 - s_rho[None, :], 1e-300)
    kernel = (beta * iso)[:, None] * (1.0 - eps_t * (1.0 - p.environmental_share) * traced) * h
    y = np.full(n, 1.0 / n)
    value = 0.0
    for _ in range(500):
        nxt = kernel @ y
        value = float(nxt.sum())
        if value == 0.0:
            return 0.0
        nxt /= value
        if np.max(np.abs(nxt - y)) < 1e-13:
            break
        y = nxt
    return value


def _onset_after(rng: np.random.Generator, age: F64, p: FerrettiParams) -> F64:
    """Symptom onset given no symptoms by `age` (inf: never symptomatic), by inverse CDF."""
    share = _symptomatic_share(p)
    grid = np.linspace(0.0, 60.0, 60_001)
    cdf = _incubation_cdf(grid, p)
    s_age = share * np.interp(age, grid, cdf)
    v = s_age + rng.random(len(age)) * (1.0 - s_age)
    out = np.full(len(age), np.inf)
    sym = v < share
    out[sym] = np.interp(v[sym] / share, cdf, grid)
    return out


def boundary(eps_i: float, delay_days: float, p: FerrettiParams | None = None) -> float | None:
    """Smallest eps_T with R_eff <= 1, or None when even eps_T = 1 does not control."""
    if r_effective(eps_i, 1.0, delay_days, p) > 1.0:
        return None
    if r_effective(eps_i, 0.0, delay_days, p) <= 1.0:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(20):
        mid = (lo + hi) / 2
        if r_effective(eps_i, mid, delay_days, p) > 1.0:
            lo = mid
        else:
            hi = mid
    return hi


def branching_r(
    eps_i: float,
    eps_t: float,
    delay_days: float,
    *,
    people: int = 20_000,
    generations: int = 6,
    seed: int = 1,
    p: FerrettiParams | None = None,
) -> float:
    """Mean offspring per infected person in generations 3..`generations` of a branching process.

    Each person: asymptomatic with Pa (infectiousness xa), otherwise an onset time from the
    incubation distribution. Offspring ~ Poisson(R0 x factor) at Weibull ages; a transmission
    is prevented when the person was isolated (symptomatic, with eps_I, from onset + d) or
    quarantined (traced by their own infector with eps_T unless environmental, at the infector's
    onset + d, that onset drawn given none by the transmission, exactly as the operator's
    (s(rho + tau - d) - s(rho)) / (1 - s(rho)) term has it). Generation sizes are capped at `people`
    by sampling, which keeps the mean offspring unbiased.
    """
    p = p or FerrettiParams()
    rng = stream(seed, "ferretti")
    norm = 1.0 / (1.0 - p.p_asymptomatic + p.p_asymptomatic * p.x_asymptomatic)
    # A generation: each person's quarantine age (inf if never quarantined).
    quarantine = np.full(people, np.inf)
    ratios = []
    for generation in range(generations):
        n = len(quarantine)
        asym = rng.random(n) < p.p_asymptomatic
        onset = rng.lognormal(p.incubation_meanlog, p.incubation_sdlog, n)
        isolated = ~asym & (rng.random(n) < eps_i)
        stop = np.minimum(quarantine, np.where(isolated, onset + delay_days, np.inf))
        mean = p.r0 * norm * np.where(asym, p.x_asymptomatic, 1.0)
        count = rng.poisson(mean)
        parent = np.repeat(np.arange(n), count)
        age = p.weibull_scale * rng.weibull(p.weibull_shape, len(parent))
        happened = age < stop[parent]
        parent, age = parent[happened], age[happened]
        if generation >= 2:
            ratios.append(len(parent) / n)
        if len(parent) == 0:
            break
        environmental = rng.random(len(parent)) < p.environmental_share
        # As in the operator, the infector's onset that triggers tracing is drawn given that
        # it had not happened by the transmission (independent of the isolation draw).
        trigger = _onset_after(rng, age, p)
        traced = ~environmental & np.isfinite(trigger) & (rng.random(len(parent)) < eps_t)
        child_q = np.where(traced, trigger + delay_days - age, np.inf)
        if len(child_q) > people:
            child_q = rng.choice(child_q, people, replace=False)
        quarantine = child_q
    return float(np.mean(ratios)) if ratios else 0.0
