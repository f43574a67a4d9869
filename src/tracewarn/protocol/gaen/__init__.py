"""GAEN: key schedule, Bluetooth metadata and (see `export`) signed key export files."""

from tracewarn.protocol.gaen.keys import (
    EKROLLING_PERIOD,
    INTERVAL_SECONDS,
    KEY_LENGTH,
    BluetoothMetadata,
    TemporaryExposureKey,
    aem_key,
    decrypt_metadata,
    en_interval_number,
    encrypt_metadata,
    interval_start,
    padded_rpi_data,
    rolling_proximity_identifier,
    rolling_proximity_identifiers,
    rpi_key,
)

__all__ = [
    "EKROLLING_PERIOD",
    "INTERVAL_SECONDS",
    "KEY_LENGTH",
    "BluetoothMetadata",
    "TemporaryExposureKey",
    "aem_key",
    "decrypt_metadata",
    "en_interval_number",
    "encrypt_metadata",
    "interval_start",
    "padded_rpi_data",
    "rolling_proximity_identifier",
    "rolling_proximity_identifiers",
    "rpi_key",
]
