"""The town's phones: one `VirtualDevice` per person, fed with the day's simulated radio.

Each simulated day every phone derives its 144 (RPI, AEM) pairs once; the day's scans
(`encounters.day_scans`) are then turned into observations in bulk with numpy indexing: scan k
tells observer o that advertiser a's RPI of interval i was heard at RSSI tx_power - attenuation.
Check-ins are real QR scans of the places' codes. Devices store on disk under the work directory,
each with its own key file, exactly as `tracewarn device` does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tracewarn.device import ManualClock, SeededRandomness, VirtualDevice
from tracewarn.device.store import OBSERVATION_DTYPE
from tracewarn.protocol.gaen.keys import EKROLLING_PERIOD, INTERVAL_SECONDS
from tracewarn.protocol.presence import (
    LocationType,
    TraceLocation,
    build_qr_url,
    encode_qr_payload,
    train_coach_location,
)
from tracewarn.sim.encounters import Scans, day_scans
from tracewarn.sim.streams import stream
from tracewarn.sim.town import CHECK_IN_SETTINGS, Setting, Town

__all__ = ["Population", "place_qr_urls"]

_LOCATION_TYPES = {
    Setting.CAFE: LocationType.PERMANENT_FOOD_SERVICE,
    Setting.CHECKPOINT: LocationType.CHECKPOINT,
    Setting.TRAIN: LocationType.TRAIN_COACH,
}
_DEFAULT_MINUTES = {Setting.CAFE: 60, Setting.CHECKPOINT: 15, Setting.TRAIN: 30}


def place_qr_urls(town: Town, day: int) -> dict[int, str]:
    """The QR code URL of every check-in place on `day`.

    Café and checkpoint have one permanent code each; a train coach's code is issued per service
    date (tracewarn's transport type), so each day's trains get fresh codes.
    """
    urls = {}
    service_date = town.config.start + dt.timedelta(days=day)
    for index, place in enumerate(town.places):
        if place.setting not in CHECK_IN_SETTINGS:
            continue
        if place.setting == Setting.TRAIN:
            seed = stream(town.seed, f"qr/{index}/{day}").bytes(16)
            location = train_coach_location(
                place.service,
                place.unit,
                service_date,
                seed=seed,
                description=place.description,
                address=place.address,
                default_length_minutes=_DEFAULT_MINUTES[place.setting],
            )
        else:
            location = TraceLocation(
                description=place.description,
                address=place.address,
                type=_LOCATION_TYPES[place.setting],
                cryptographic_seed=stream(town.seed, f"qr/{index}").bytes(16),
                default_check_in_length_minutes=_DEFAULT_MINUTES[place.setting],
            )
        urls[index] = build_qr_url(encode_qr_payload(location))
    return urls


@dataclass
class Population:
    town: Town
    clock: ManualClock
    devices: list[VirtualDevice]

    @classmethod
    def create(cls, town: Town, directory: Path, clock: ManualClock | None = None) -> Population:
        start = dt.datetime.fromtimestamp(town.day_start(0), tz=dt.UTC)
        clock = clock or ManualClock(start)
        clock.set(start)
        devices = [
            VirtualDevice.open(
                directory / f"phone-{i:04d}",
                clock=clock,
                randomness=SeededRandomness(town.seed, f"device/{i}"),
                durable=False,
            )
            for i in range(town.people)
        ]
        return cls(town, clock, devices)

    def close(self) -> None:
        for device in self.devices:
            device.close()

    def live_day(self, day: int, on_progress: Callable[[int], None] | None = None) -> Scans:
        """Run one day: keys, radio, observations, check-ins. Returns the day's scans."""
        t0 = self.town.day_start(day)
        self.clock.set(dt.datetime.fromtimestamp(t0 + 86400 - 60, tz=dt.UTC))
        n = self.town.people
        rpis = np.empty((n, EKROLLING_PERIOD), dtype="S16")
        aems = np.empty((n, EKROLLING_PERIOD), dtype="S4")
        tx_power = np.empty(n, dtype=np.int64)
        for i, device in enumerate(self.devices):
            adverts = device.day_advertisements(t0 // 86400)
            rpis[i] = [rpi for rpi, _ in adverts]
            aems[i] = [aem for _, aem in adverts]
            tx_power[i] = device.config.tx_power
        scans = day_scans(self.town, day)
        heard = np.flatnonzero(scans.heard)
        interval = (scans.time[heard] - t0) // INTERVAL_SECONDS
        advertiser = scans.advertiser[heard]
        records = np.empty(len(heard), dtype=OBSERVATION_DTYPE)
        records["rpi"] = rpis[advertiser, interval]
        records["aem"] = aems[advertiser, interval]
        records["time"] = scans.time[heard]
        records["rssi"] = np.clip(tx_power[advertiser] - scans.attenuation[heard], -127, 127)
        observer = scans.observer[heard]
        order = np.argsort(observer, kind="stable")
        bounds = np.searchsorted(observer[order], np.arange(n + 1))
        for i, device in enumerate(self.devices):
            chunk = records[order[bounds[i] : bounds[i + 1]]]
            if len(chunk):
                device.store.add_observation_records(chunk)
            if on_progress is not None:
                on_progress(i)
        self._check_ins(day)
        return scans

    def _check_ins(self, day: int) -> None:
        stays = self.town.check_in_stays(day)
        urls = place_qr_urls(self.town, day)
        rng = stream(self.town.seed, f"checkin/{day}")
        scans_code = rng.random(len(stays)) < self.town.config.check_in_probability
        for k in np.flatnonzero(scans_code):
            device = self.devices[int(stays.person[k])]
            device.check_in(
                urls[int(stays.place[k])],
                start=int(stays.start[k]),
                end=int(stays.end[k]),
            )
