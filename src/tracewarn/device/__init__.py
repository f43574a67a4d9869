"""Virtual devices: an encrypted local store, the key schedule, observations, check-ins, sync."""

from tracewarn.device.clock import (
    Clock,
    ManualClock,
    Randomness,
    SeededRandomness,
    SystemClock,
    SystemRandomness,
)
from tracewarn.device.device import DeviceConfig, VirtualDevice
from tracewarn.device.store import DeviceStore, Observation, StoreCorrupted, StoredCheckIn

__all__ = [
    "Clock",
    "DeviceConfig",
    "DeviceStore",
    "ManualClock",
    "Observation",
    "Randomness",
    "SeededRandomness",
    "StoreCorrupted",
    "StoredCheckIn",
    "SystemClock",
    "SystemRandomness",
    "VirtualDevice",
]
