"""Builders for tracewarn's own location types: a train coach, a flight, a bus, a checkpoint.

A vehicle on one run is one location: service + unit + date (for example coach 7 of ICE 597 on
2026-11-29). The scheduled departure and arrival become the location's start and end, so CWA
scanners see a TEMPORARY_OTHER event and tracewarn devices check out automatically at arrival.
Without a schedule the location is permanent (PERMANENT_OTHER to CWA) and the default length is
used. The seed is the caller's 16 random bytes, as every QR code must be unique.
"""

from __future__ import annotations

import datetime as dt

from tracewarn.protocol.presence.location import (
    CWA_PRODUCTION_PUBLIC_KEY,
    LocationType,
    TraceLocation,
    TransportDetails,
)

__all__ = ["bus_location", "checkpoint_location", "flight_location", "train_coach_location"]


def _transport(
    location_type: LocationType,
    details: TransportDetails,
    *,
    description: str,
    address: str,
    seed: bytes,
    departure: int | None,
    arrival: int | None,
    default_length_minutes: int | None,
    public_key: bytes,
) -> TraceLocation:
    return TraceLocation(
        description=description,
        address=address,
        type=location_type,
        cryptographic_seed=seed,
        start_timestamp=departure or 0,
        end_timestamp=arrival or 0,
        default_check_in_length_minutes=default_length_minutes,
        public_key=public_key,
        transport=details,
    )


def train_coach_location(
    service: str,
    coach: str,
    service_date: dt.date,
    *,
    seed: bytes,
    departure: int | None = None,
    arrival: int | None = None,
    description: str | None = None,
    address: str | None = None,
    default_length_minutes: int | None = None,
    public_key: bytes = CWA_PRODUCTION_PUBLIC_KEY,
) -> TraceLocation:
    """Coach `coach` of train `service` on `service_date` (departure/arrival in Unix seconds)."""
    return _transport(
        LocationType.TRAIN_COACH,
        TransportDetails(service, coach, service_date),
        description=description or f"{service}, coach {coach}",
        address=address or f"Train {service} on {service_date.isoformat()}",
        seed=seed,
        departure=departure,
        arrival=arrival,
        default_length_minutes=default_length_minutes,
        public_key=public_key,
    )


def flight_location(
    flight: str,
    service_date: dt.date,
    *,
    seed: bytes,
    cabin: str = "",
    departure: int | None = None,
    arrival: int | None = None,
    description: str | None = None,
    address: str | None = None,
    default_length_minutes: int | None = None,
    public_key: bytes = CWA_PRODUCTION_PUBLIC_KEY,
) -> TraceLocation:
    """Flight `flight` on `service_date`, optionally one cabin of it."""
    return _transport(
        LocationType.FLIGHT,
        TransportDetails(flight, cabin, service_date),
        description=description or f"Flight {flight}" + (f", {cabin}" if cabin else ""),
        address=address or f"Flight {flight} on {service_date.isoformat()}",
        seed=seed,
        departure=departure,
        arrival=arrival,
        default_length_minutes=default_length_minutes,
        public_key=public_key,
    )


def bus_location(
    line: str,
    vehicle: str,
    service_date: dt.date,
    *,
    seed: bytes,
    departure: int | None = None,
    arrival: int | None = None,
    description: str | None = None,
    address: str | None = None,
    default_length_minutes: int | None = None,
    public_key: bytes = CWA_PRODUCTION_PUBLIC_KEY,
) -> TraceLocation:
    """Vehicle `vehicle` serving bus line `line` on `service_date`."""
    return _transport(
        LocationType.BUS,
        TransportDetails(line, vehicle, service_date),
        description=description or f"Bus {line}" + (f", vehicle {vehicle}" if vehicle else ""),
        address=address or f"Bus {line} on {service_date.isoformat()}",
        seed=seed,
        departure=departure,
        arrival=arrival,
        default_length_minutes=default_length_minutes,
        public_key=public_key,
    )


def checkpoint_location(
    description: str,
    address: str,
    *,
    seed: bytes,
    default_length_minutes: int | None = 15,
    public_key: bytes = CWA_PRODUCTION_PUBLIC_KEY,
) -> TraceLocation:
    """A permanent checkpoint (border, security, entrance) where people queue for a short while."""
    return TraceLocation(
        description=description,
        address=address,
        type=LocationType.CHECKPOINT,
        cryptographic_seed=seed,
        default_check_in_length_minutes=default_length_minutes,
        public_key=public_key,
    )
