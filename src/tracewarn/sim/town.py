"""A small town for the demo: who is where, when, and how close (struct-of-arrays).

Theory of operation. People live in households (sizes from the ONS table of
OpenABM-Covid19 model [docs/specifications.md#openabm]). Some work in a workplace, in team rooms, and lunch in its
canteen; some of the workers commute by train (a few departures, one coach each); each day a
share of the town visits a café and a share passes a checkpoint. Every stay is one row of a
`Stays` table (person, place, start, end, x, y): positions are metres inside the place, so the
distance between two people is geometry, not a separate draw. Each component draws from its own
named stream (`streams.stream(seed, name)`), so changing one never changes another's draws.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from tracewarn.sim.streams import stream

__all__ = ["Place", "Setting", "Stays", "Town", "TownConfig", "build_town"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
HOUSEHOLD_SIZE_SHARES = np.array([0.27, 0.36, 0.16, 0.15, 0.04, 0.02])
HOUR = 3600


class Setting(IntEnum):
    HOME = 0
    WORK = 1
    CANTEEN = 2
    CAFE = 3
    TRAIN = 4
    CHECKPOINT = 5


CHECK_IN_SETTINGS = (Setting.CAFE, Setting.TRAIN, Setting.CHECKPOINT)


@dataclass(frozen=True, slots=True)
class Place:
    """A place. `description` and `address` go into its QR code and stay on devices."""

    setting: Setting
    description: str
    address: str
    # CWA TraceLocationType: 4 food service, 1 permanent other (trains have no own type).
    location_type: int
    width_m: float
    depth_m: float
    metal: bool = False
    # Trains: the service and coach; their codes are issued per service date.
    service: str = ""
    unit: str = ""


@dataclass(frozen=True, slots=True)
class TownConfig:
    people: int = 200
    days: int = 5
    start: dt.date = dt.date(2026, 11, 2)
    worker_share: float = 0.55
    team_size: int = 6
    commuter_share: float = 0.4  # of workers
    trains_per_morning: int = 3
    cafe_daily_share: float = 0.12
    checkpoint_daily_share: float = 0.08
    check_in_probability: float = 1.0


@dataclass(slots=True)
class Stays:
    """Struct-of-arrays of stays: person i was at place p from start to end at (x, y)."""

    person: IntArray
    place: IntArray
    start: IntArray
    end: IntArray
    x: FloatArray
    y: FloatArray

    @classmethod
    def concat(cls, parts: list[Stays]) -> Stays:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _STAY_FIELDS))

    def __len__(self) -> int:
        return len(self.person)

    def select(self, mask: npt.NDArray[np.bool_]) -> Stays:
        return Stays(*(getattr(self, f)[mask] for f in _STAY_FIELDS))


_STAY_FIELDS = ("person", "place", "start", "end", "x", "y")


@dataclass(slots=True)
class Town:
    config: TownConfig
    seed: int
    places: list[Place]
    household: IntArray
    worker: npt.NDArray[np.bool_]
    team: IntArray
    commuter: npt.NDArray[np.bool_]
    preferred_train: IntArray
    days: list[Stays] = field(default_factory=list)

    @property
    def people(self) -> int:
        return len(self.household)

    def day_start(self, day: int) -> int:
        start = dt.datetime.combine(self.config.start, dt.time(), tzinfo=dt.UTC)
        return int(start.timestamp()) + day * 86400

    def check_in_stays(self, day: int) -> Stays:
        stays = self.days[day]
        settings = np.array([self.places[p].setting for p in stays.place])
        return stays.select(np.isin(settings, CHECK_IN_SETTINGS))


def build_town(config: TownConfig, seed: int) -> Town:
    """Population, places and every day's stays of a seeded town."""
    n = config.people
    rng = stream(seed, "population")
    sizes = rng.choice(np.arange(1, 7), size=n, p=HOUSEHOLD_SIZE_SHARES)
    household = np.repeat(np.arange(n), sizes)[:n].astype(np.int64)
    worker = rng.random(n) < config.worker_share
    n_workers = int(worker.sum())
    team = np.full(n, -1, dtype=np.int64)
    team[worker] = np.arange(n_workers) // config.team_size
    commuter = worker & (rng.random(n) < config.commuter_share)
    preferred_train = rng.integers(0, config.trains_per_morning, size=n).astype(np.int64)

    places: list[Place] = []
    n_households = int(household.max()) + 1
    places += [Place(Setting.HOME, f"household {h}", "", 0, 9.0, 7.0) for h in range(n_households)]
    n_teams = int(team.max()) + 1 if n_workers else 0
    places += [Place(Setting.WORK, f"team room {t}", "", 6, 7.0, 5.0) for t in range(n_teams)]
    places.append(Place(Setting.CANTEEN, "canteen", "", 6, 20.0, 12.0))
    places.append(
        Place(Setting.CAFE, "Café Lindenblüte", "Marktplatz 3, 12345 Tracewarn-Stadt", 4, 12.0, 8.0)
    )
    places.append(
        Place(
            Setting.CHECKPOINT,
            "Checkpoint Nordtor",
            "Nordtorstraße 17, 12345 Tracewarn-Stadt",
            8,
            6.0,
            3.0,
        )
    )
    places += [
        Place(
            Setting.TRAIN,
            f"RE 7, coach 3 of train set {k + 1}",
            "Regionalbahn RE 7, Bahnhof Tracewarn-Stadt",
            1,
            25.0,
            2.8,
            metal=True,
            service="RE 7",
            unit=f"3/{k + 1}",
        )
        for k in range(config.trains_per_morning)
    ]
    town = Town(config, seed, places, household, worker, team, commuter, preferred_train)
    town.days = [_day_stays(town, day) for day in range(config.days)]
    return town


def _place_index(town: Town, setting: Setting) -> list[int]:
    return [i for i, p in enumerate(town.places) if p.setting == setting]


def _positions(
    rng: np.random.Generator, places: list[Place], place: IntArray
) -> tuple[FloatArray, FloatArray]:
    width = np.array([places[p].width_m for p in place])
    depth = np.array([places[p].depth_m for p in place])
    return rng.random(len(place)) * width, rng.random(len(place)) * depth


def _stays(
    rng: np.random.Generator,
    town: Town,
    person: IntArray,
    place: IntArray,
    start: IntArray,
    end: IntArray,
) -> Stays:
    x, y = _positions(rng, town.places, place)
    return Stays(person.astype(np.int64), place.astype(np.int64), start, end, x, y)


def _day_stays(town: Town, day: int) -> Stays:
    seed, cfg, t0 = town.seed, town.config, town.day_start(day)
    n = town.people
    everyone = np.arange(n, dtype=np.int64)
    parts: list[Stays] = []

    rng = stream(seed, f"home/{day}")
    home_start = t0 + 18 * HOUR + rng.integers(0, HOUR, size=n)
    home_end = t0 + 23 * HOUR + np.zeros(n, dtype=np.int64)
    parts.append(_stays(rng, town, everyone, town.household, home_start, home_end))

    rng = stream(seed, f"work/{day}")
    workers = everyone[town.worker & (rng.random(n) > 0.05)]  # someone is always off sick
    if len(workers):
        team_room = _place_index(town, Setting.WORK)[0] + town.team[workers]
        arrive = t0 + 9 * HOUR + rng.integers(-20 * 60, 20 * 60, size=len(workers))
        leave = t0 + 17 * HOUR + rng.integers(-20 * 60, 20 * 60, size=len(workers))
        lunch = t0 + 12 * HOUR + rng.integers(0, 2, size=len(workers)) * 1800
        canteen = np.full(len(workers), _place_index(town, Setting.CANTEEN)[0])
        parts.append(_stays(rng, town, workers, team_room, arrive, lunch))
        parts.append(_stays(rng, town, workers, canteen, lunch, lunch + 1800))
        parts.append(_stays(rng, town, workers, team_room, lunch + 1800, leave))

    rng = stream(seed, f"train/{day}")
    riders = everyone[town.commuter & np.isin(everyone, workers)]
    if len(riders):
        trains = _place_index(town, Setting.TRAIN)
        choice = np.where(
            rng.random(len(riders)) < 0.8,
            town.preferred_train[riders],
            rng.integers(0, len(trains), size=len(riders)),
        )
        depart = t0 + 7 * HOUR + 5 * 60 + choice * 1800
        coach = np.asarray(trains, dtype=np.int64)[choice]
        parts.append(_stays(rng, town, riders, coach, depart, depart + 25 * 60))
        back = rng.integers(0, len(trains), size=len(riders))
        depart_back = t0 + 17 * HOUR + 25 * 60 + back * 1800
        coach_back = np.asarray(trains, dtype=np.int64)[back]
        parts.append(_stays(rng, town, riders, coach_back, depart_back, depart_back + 25 * 60))

    rng = stream(seed, f"cafe/{day}")
    guests = everyone[rng.random(n) < cfg.cafe_daily_share]
    if len(guests):
        # Café visits happen outside working hours for workers, at any time for the others.
        working = town.worker[guests]
        start = (
            t0
            + np.where(
                working,
                rng.choice([8 * HOUR, 17 * HOUR + 40 * 60], size=len(guests)),
                10 * HOUR + rng.integers(0, 6 * HOUR, size=len(guests)),
            )
            + rng.integers(0, 40 * 60, size=len(guests))
        )
        stay = rng.integers(15 * 60, 50 * 60, size=len(guests))
        cafe = np.full(len(guests), _place_index(town, Setting.CAFE)[0])
        parts.append(_stays(rng, town, guests, cafe, start, start + stay))

    rng = stream(seed, f"checkpoint/{day}")
    passing = everyone[rng.random(n) < cfg.checkpoint_daily_share]
    if len(passing):
        start = t0 + 13 * HOUR + rng.integers(0, 4 * HOUR, size=len(passing))
        stay = rng.integers(8 * 60, 25 * 60, size=len(passing))
        checkpoint = np.full(len(passing), _place_index(town, Setting.CHECKPOINT)[0])
        parts.append(_stays(rng, town, passing, checkpoint, start, start + stay))

    return Stays.concat(parts)
