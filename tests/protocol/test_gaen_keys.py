"""GAEN key schedule against the official Apple/Google v1.2 vectors, and its properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import load_vector_json
from tracewarn.protocol.errors import CryptoFormatError, KeyFormatError
from tracewarn.protocol.gaen import (
    BluetoothMetadata,
    TemporaryExposureKey,
    aem_key,
    decrypt_metadata,
    en_interval_number,
    encrypt_metadata,
    padded_rpi_data,
    rolling_proximity_identifier,
    rolling_proximity_identifiers,
    rpi_key,
)


@pytest.fixture(scope="module")
def vectors() -> dict[str, object]:
    data = load_vector_json("gaen", "en-crypto-test-vectors.json")
    assert isinstance(data, dict)
    return data


def test_key_derivations_match_vectors(vectors: dict[str, object]) -> None:
    tek = bytes.fromhex(str(vectors["tek"]))
    assert rpi_key(tek).hex() == vectors["rpik"]
    assert aem_key(tek).hex() == vectors["aemk"]
    moment = dt.datetime.fromtimestamp(int(str(vectors["key_generation_unix_seconds"])), tz=dt.UTC)
    assert en_interval_number(moment) == vectors["rolling_start_interval_number"]


def test_all_144_rpis_and_aems_match_vectors(vectors: dict[str, object]) -> None:
    tek = bytes.fromhex(str(vectors["tek"]))
    intervals = vectors["intervals"]
    assert isinstance(intervals, list) and len(intervals) == 144
    start = int(str(vectors["rolling_start_interval_number"]))
    rpis = rolling_proximity_identifiers(tek, start, 144)
    rpik, aemk = rpi_key(tek), aem_key(tek)
    metadata = bytes.fromhex(str(vectors["metadata"]))
    for row, rpi in zip(intervals, rpis, strict=True):
        assert row["interval_number"] == start + row["k"]
        assert rpi.hex() == row["rpi"]
        assert rolling_proximity_identifier(rpik, row["interval_number"]).hex() == row["rpi"]
        assert encrypt_metadata(aemk, rpi, metadata).hex() == row["aem"]
        assert decrypt_metadata(aemk, rpi, bytes.fromhex(row["aem"])) == metadata


def test_padded_data_example() -> None:
    assert padded_rpi_data(2642976).hex() == "454e2d52504900000000000020542800"


def test_metadata_layout() -> None:
    meta = BluetoothMetadata(major=1, minor=0, tx_power=8)
    assert meta.to_bytes().hex() == "40080000"
    assert BluetoothMetadata.from_bytes(bytes.fromhex("5cf60000")) == BluetoothMetadata(
        1, 1, 3, -10
    )


@given(st.binary(min_size=16, max_size=16), st.integers(0, 2**32 - 145))
def test_a_keys_144_rpis_are_distinct(tek: bytes, start: int) -> None:
    assert len(set(rolling_proximity_identifiers(tek, start))) == 144


@given(st.binary(min_size=16, max_size=16), st.binary(min_size=4, max_size=4))
def test_aem_round_trip(rpi: bytes, metadata: bytes) -> None:
    key = bytes(range(16))
    assert decrypt_metadata(key, rpi, encrypt_metadata(key, rpi, metadata)) == metadata


@pytest.mark.parametrize("bad", [b"", b"\x00" * 15, b"\x00" * 17])
def test_bad_key_lengths_are_rejected(bad: bytes) -> None:
    with pytest.raises(KeyFormatError, match="16 bytes"):
        rpi_key(bad)


def test_bad_ranges_are_rejected() -> None:
    with pytest.raises(KeyFormatError):
        rolling_proximity_identifiers(bytes(16), 0, 0)
    with pytest.raises(KeyFormatError):
        rolling_proximity_identifiers(bytes(16), 2**32 - 1, 2)
    with pytest.raises(KeyFormatError):
        TemporaryExposureKey(bytes(16), 0, 145)
    with pytest.raises(CryptoFormatError):
        encrypt_metadata(bytes(16), bytes(16), b"abc")
    with pytest.raises(KeyFormatError):
        en_interval_number(dt.datetime(2020, 1, 1))


def test_generate_aligns_to_utc_midnight() -> None:
    moment = dt.datetime(2020, 4, 2, 13, 37, tzinfo=dt.UTC)
    tek = TemporaryExposureKey.generate(bytes(16), moment)
    assert tek.rolling_start_interval_number == 2642976
    assert tek.covers(2642976) and tek.covers(2643119) and not tek.covers(2643120)
