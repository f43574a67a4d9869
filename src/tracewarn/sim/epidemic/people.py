"""The population as arrays: ages, households, occupation networks and random-contact counts.

OpenABM-Covid19's structure (documentation/covid19.md, "Demographics", "Household Network",
"Occupation Networks", "Random Network"), simplified where noted:

- Households get sizes from the UK size table; the first two members of a household are adults
  and further members mostly children, so children live with adults (OpenABM samples real census
  households instead). Ages are drawn per position from the ONS age table restricted to
  adults/children, then the positions are shuffled within the town.
- Occupation networks: one Watts-Strogatz small-world graph per age network (primary, secondary,
  working, retired, elderly), lattice degree = daily mean / `daily_fraction_work`, rewiring
  `work_network_rewire`; adults are moved into children's and elderly networks at 0.2 per member.
  Each day an edge is present with probability `daily_fraction_work`, decided by a hash of
  (edge, day) so tracing can ask later which edges existed on a past day without storing them.
- Random contacts: each person's daily count is drawn once from a negative binomial.

Graphs are stored as CSR adjacency (indptr, neighbour, edge id) over int32 arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tracewarn.sim.epidemic.params import HOUSEHOLD_SIZES, POPULATION_BY_AGE, Params
from tracewarn.sim.streams import stream

__all__ = ["Csr", "People", "build_people", "edge_present"]

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

# Age group -> occupation network (OpenABM AGE_OCCUPATION_MAP): primary, secondary, working x5,
# retired, elderly.
_NETWORK_OF_AGE = np.array([0, 1, 2, 2, 2, 2, 2, 3, 4])


@dataclass(frozen=True, slots=True)
class Csr:
    """Undirected graph as CSR: neighbours of i are `neighbour[indptr[i]:indptr[i+1]]`."""

    indptr: I64
    neighbour: I32
    edge: I32  # id of the undirected edge, the same from both ends

    @classmethod
    def from_edges(cls, n: int, a: I64, b: I64) -> Csr:
        ids = np.arange(len(a), dtype=np.int64)
        src = np.concatenate([a, b])
        dst = np.concatenate([b, a])
        eid = np.concatenate([ids, ids])
        order = np.argsort(src, kind="stable")
        counts = np.bincount(src, minlength=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return cls(indptr, dst[order].astype(np.int32), eid[order].astype(np.int32))

    def gather(self, sources: I64) -> tuple[I64, I64, I64]:
        """(source, neighbour, edge id) for every edge at `sources` (vectorised)."""
        start = self.indptr[sources]
        count = self.indptr[sources + 1] - start
        total = int(count.sum())
        src = np.repeat(sources, count)
        offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        pos = np.repeat(start, count) + offset
        return src, self.neighbour[pos].astype(np.int64), self.edge[pos].astype(np.int64)

    @property
    def edges(self) -> int:
        return len(self.neighbour) // 2


@dataclass(frozen=True, slots=True)
class People:
    """Static per-person arrays and contact structure of one run."""

    age: npt.NDArray[np.int8]  # age group 0..8
    household: I32
    home: Csr
    work: Csr
    random_count: I32  # daily random contacts, drawn once
    susceptibility: F64  # relative susceptibility, normalised to population mean 1
    compliance: F64  # one uniform per person, compared with every compliance threshold
    app: npt.NDArray[np.bool_]

    @property
    def n(self) -> int:
        return len(self.age)


def edge_present(edge: I64, day: int, seed: int, fraction: float) -> npt.NDArray[np.bool_]:
    """Whether occupation edge `edge` is present on `day`: a splitmix64 hash, not a stored draw."""
    x = edge.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    x ^= np.uint64((day * 0x100000001B3 + seed * 0xC2B2AE3D27D4EB4F) & 0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) * 2.0**-53 < fraction


def _ages(rng: np.random.Generator, position: I64) -> npt.NDArray[np.int8]:
    weights = np.array(POPULATION_BY_AGE, dtype=np.float64)
    adult = weights.copy()
    adult[:2] = 0
    child = np.zeros(9)
    child[:2] = weights[:2]
    n = len(position)
    age = rng.choice(9, size=n, p=adult / adult.sum())
    # Children fill the third and later places of a household; the overall child share of the
    # ONS table (~24 %) is reached by making later places children with this probability.
    later = position >= 2
    is_child = later & (rng.random(n) < 0.85)
    age[is_child] = rng.choice(9, size=int(is_child.sum()), p=child / child.sum())
    return age.astype(np.int8)


def _households(rng: np.random.Generator, n: int) -> tuple[I32, I64]:
    sizes_p = np.array(HOUSEHOLD_SIZES, dtype=np.float64)
    draws = rng.choice(np.arange(1, 7), size=n // 2 + 10, p=sizes_p / sizes_p.sum())
    ends = np.cumsum(draws)
    k = int(np.searchsorted(ends, n)) + 1
    sizes = draws[:k].copy()
    sizes[-1] -= int(ends[k - 1]) - n
    sizes = sizes[sizes > 0]
    household = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    position = np.arange(n, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return household, position


def _home_graph(household: I32) -> Csr:
    n = len(household)
    a_parts, b_parts = [], []
    for k in range(1, 6):  # households have at most 6 members
        i = np.nonzero(household[:-k] == household[k:])[0]
        a_parts.append(i)
        b_parts.append(i + k)
    return Csr.from_edges(n, np.concatenate(a_parts), np.concatenate(b_parts))


def _watts_strogatz(
    rng: np.random.Generator, members: I64, degree: int, rewire: float
) -> tuple[I64, I64]:
    """Ring lattice of `degree` (even) over shuffled members, each edge rewired with `rewire`."""
    m = len(members)
    half = min(degree // 2, (m - 1) // 2)
    if m < 3 or half < 1:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ring = rng.permutation(members)
    idx = np.arange(m, dtype=np.int64)
    a = np.repeat(idx, half)
    b = (a + np.tile(np.arange(1, half + 1), m)) % m
    moved = rng.random(len(b)) < rewire
    b[moved] = rng.integers(0, m, size=int(moved.sum()))
    keep = a != b
    return ring[a[keep]], ring[b[keep]]


def _work_graph(rng: np.random.Generator, p: Params, age: npt.NDArray[np.int8]) -> Csr:
    n = len(age)
    network = _NETWORK_OF_AGE[age].copy()
    adults = rng.permutation(np.nonzero(network == 2)[0])
    used = 0
    for net, ratio in ((0, p.child_network_adults), (1, p.child_network_adults)):
        extra = round(ratio * np.count_nonzero(network == net))
        network[adults[used : used + extra]] = net
        used += extra
    for net in (3, 4):
        extra = round(p.elderly_network_adults * np.count_nonzero(network == net))
        network[adults[used : used + extra]] = net
        used += extra
    means = (
        p.mean_work_interactions_child,
        p.mean_work_interactions_child,
        p.mean_work_interactions_adult,
        p.mean_work_interactions_elderly,
        p.mean_work_interactions_elderly,
    )
    a_parts, b_parts = [], []
    for net, mean in enumerate(means):
        degree = 2 * round(mean / p.daily_fraction_work / 2)
        a, b = _watts_strogatz(
            rng, np.nonzero(network == net)[0].astype(np.int64), degree, p.work_network_rewire
        )
        a_parts.append(a)
        b_parts.append(b)
    return Csr.from_edges(n, np.concatenate(a_parts), np.concatenate(b_parts))


def _random_counts(rng: np.random.Generator, p: Params, age: npt.NDArray[np.int8]) -> I32:
    band = np.where(age < 2, 0, np.where(age < 7, 1, 2))
    out = np.zeros(len(age), dtype=np.int32)
    for b in range(3):
        m, s = p.mean_random_interactions[b], p.sd_random_interactions[b]
        idx = np.nonzero(band == b)[0]
        if s * s > m:
            draws = rng.negative_binomial(m * m / (s * s - m), m / (s * s), size=len(idx))
        else:
            draws = np.full(len(idx), round(m))
        out[idx] = draws
    return out


def _app_users(
    rng: np.random.Generator, p: Params, age: npt.NDArray[np.int8]
) -> npt.NDArray[np.bool_]:
    """Exactly ceil(N_age x fraction) random people per age group (OpenABM `set_up_app_users`).

    The order of candidates is drawn independently of the uptake, so a higher uptake scale gives
    a superset of app users: sweeps compare nested populations, not different ones.
    """
    app = np.zeros(len(age), dtype=bool)
    rank = rng.random(len(age))
    for g, fraction in enumerate(p.app_fraction_by_age()):
        idx = np.nonzero(age == g)[0]
        k = int(np.ceil(len(idx) * fraction - 1e-9))
        app[idx[np.argsort(rank[idx], kind="stable")[:k]]] = True
    return app


def build_people(p: Params) -> People:
    """Build the population of a run (seeded by `p.seed`, one stream per component)."""
    n = p.population
    household, position = _households(stream(p.seed, "households"), n)
    age = _ages(stream(p.seed, "age"), position)
    sus = np.array(p.relative_susceptibility, dtype=np.float64)[age]
    return People(
        age=age,
        household=household,
        home=_home_graph(household),
        work=_work_graph(stream(p.seed, "work-network"), p, age),
        random_count=_random_counts(stream(p.seed, "random-count"), p, age),
        susceptibility=sus / sus.mean(),
        compliance=stream(p.seed, "compliance").random(n),
        app=_app_users(stream(p.seed, "app-users"), p, age),
    )
