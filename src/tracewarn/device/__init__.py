"""Virtual devices: an encrypted local store, the key schedule, observations, check-ins, sync.

`VirtualDevice` is one phone: it advertises its rolling identifiers, records what it hears and
where it checks in, and talks to the backend only through the `httpx.Client` it is given
(`sync`, `report`, `fake_report`). See docs/device.md.
"""

from tracewarn.device._sync import Notification, SyncReport
from tracewarn.device.backend import Backend, BackendError
from tracewarn.device.clock import (
    Clock,
    ManualClock,
    Randomness,
    SeededRandomness,
    SystemClock,
    SystemRandomness,
)
from tracewarn.device.device import POSITIVE_RESULTS, DeviceConfig, ReportRefused, VirtualDevice
from tracewarn.device.store import (
    RETENTION_DAYS,
    DeviceStore,
    Observation,
    StoreCorrupted,
    StoredCheckIn,
)
from tracewarn.protocol.presence.risk_vector import SymptomAnswer, transmission_risk_vector

__all__ = [
    "POSITIVE_RESULTS",
    "RETENTION_DAYS",
    "Backend",
    "BackendError",
    "Clock",
    "DeviceConfig",
    "DeviceStore",
    "ManualClock",
    "Notification",
    "Observation",
    "Randomness",
    "ReportRefused",
    "SeededRandomness",
    "StoreCorrupted",
    "StoredCheckIn",
    "SymptomAnswer",
    "SyncReport",
    "SystemClock",
    "SystemRandomness",
    "VirtualDevice",
    "transmission_risk_vector",
]
