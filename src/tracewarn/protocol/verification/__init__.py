"""Verification codes (pure): teleTAN alphabet and check character, TAN and token formats."""

from tracewarn.protocol.verification.codes import (
    GUID_RANDOM_BYTES,
    TELETAN_ALPHABET,
    TELETAN_LENGTH,
    TELETAN_RANDOM_BYTES,
    UUID_RANDOM_BYTES,
    hash_test_guid,
    is_hashed_guid,
    is_teletan,
    is_test_guid,
    is_uuid4,
    make_teletan,
    make_test_guid,
    make_uuid4,
    teletan_check_character,
)

__all__ = [
    "GUID_RANDOM_BYTES",
    "TELETAN_ALPHABET",
    "TELETAN_LENGTH",
    "TELETAN_RANDOM_BYTES",
    "UUID_RANDOM_BYTES",
    "hash_test_guid",
    "is_hashed_guid",
    "is_teletan",
    "is_test_guid",
    "is_uuid4",
    "make_teletan",
    "make_test_guid",
    "make_uuid4",
    "teletan_check_character",
]
