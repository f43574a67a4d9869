"""EFGS canonical bytes and batch parsing against the published vectors (shared/vectors/efgs)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import load_vector_json, vector_path
from tracewarn.protocol.errors import FederationFormatError
from tracewarn.protocol.federation import (
    FederationKey,
    batch_signature_input,
    canonical_record,
    decode_record,
    encode_batch,
    encode_batch_json,
    parse_batch,
    parse_batch_json,
)


def _be32(column: str) -> int:
    values = [int(v) & 0xFF for v in column.strip("[]").split(",")]
    return int.from_bytes(bytes(values), "big", signed=True)


def _upstream_keys() -> list[tuple[FederationKey, bytes]]:
    """(key, expected record) for each of the 5,000 lines of the C# cross-language file."""
    lines = vector_path("efgs", "efgs-canonical-bytes-5000-keys.txt").read_text().splitlines()
    out = []
    for line in lines:
        cols = line.split("|")
        visited = cols[8].strip("[]")
        key = FederationKey(
            key_data=bytes(int(v) & 0xFF for v in cols[0].strip("[]").split(",")),
            rolling_start_interval_number=_be32(cols[2]) & 0xFFFFFFFF,
            rolling_period=_be32(cols[4]) & 0xFFFFFFFF,
            transmission_risk_level=_be32(cols[6]),
            visited_countries=tuple(visited.split(",")) if visited else (),
            origin=cols[10].strip("[]"),
            report_type=_be32(cols[12]),
            days_since_onset_of_symptoms=_be32(cols[14]),
        )
        out.append((key, base64.b64decode(cols[16])))
    return out


def test_every_upstream_record_is_reproduced() -> None:
    pairs = _upstream_keys()
    assert len(pairs) == 5000
    for key, expected in pairs:
        assert canonical_record(key) == expected
        assert decode_record(expected) == key


def test_whole_file_as_one_batch_matches_the_derived_digest() -> None:
    derived = load_vector_json("efgs", "efgs-derived-signature-inputs.json")["full_5000_batch"]
    keys = [k for k, _ in _upstream_keys()]
    data = batch_signature_input(keys)
    assert len(data) == derived["signature_input_length"]
    assert hashlib.sha256(data).hexdigest() == derived["signature_input_sha256"]
    shuffled = keys[:]
    random.Random(7).shuffle(shuffled)
    assert batch_signature_input(shuffled) == data
    ordered = sorted(keys, key=lambda k: base64.b64encode(canonical_record(k)))
    assert [base64.b64encode(k.key_data).decode() for k in ordered[:3]] == derived[
        "first_three_keyData_b64_in_signing_order"
    ]


def test_ordering_example_sorts_by_the_whole_record() -> None:
    example = load_vector_json("efgs", "efgs-derived-signature-inputs.json")["ordering_example"]
    by_b64 = {base64.b64encode(k.key_data).decode(): k for k, _ in _upstream_keys()}
    keys = [by_b64[b] for b in example["keys_keyData_b64"]]
    assert batch_signature_input(keys) == example["signature_input_ascii"].encode()
    assert batch_signature_input(keys[::-1]) == example["signature_input_ascii"].encode()


@pytest.mark.parametrize("index", [0, 1, 2])
def test_bin_batches_parse_to_the_derived_fields_and_input(index: int) -> None:
    entry = load_vector_json("efgs", "efgs-derived-signature-inputs.json")["bin_batches"][index]
    data = vector_path("efgs", entry["file"]).read_bytes()
    keys = parse_batch(data)
    assert len(keys) == len(entry["keys"]) == 1
    want = entry["keys"][0]
    key = keys[0]
    assert base64.b64encode(key.key_data).decode() == want["keyData_b64"]
    assert key.rolling_start_interval_number == want["rollingStartIntervalNumber"]
    assert key.rolling_period == want["rollingPeriod"]
    assert key.transmission_risk_level == want["transmissionRiskLevel"]
    assert list(key.visited_countries) == want["visitedCountries"]
    assert key.origin == want["origin"]
    assert key.report_type == want["reportType"]
    assert key.days_since_onset_of_symptoms == want["days_since_onset_of_symptoms"]
    signed = batch_signature_input(keys)
    assert signed == entry["signature_input_ascii"].encode()
    assert hashlib.sha256(signed).hexdigest() == entry["signature_input_sha256"]
    # Our encoder writes the same bytes the upstream Java encoder wrote.
    assert encode_batch(keys) == data
    assert parse_batch_json(encode_batch_json(keys)) == keys


_keys = st.builds(
    FederationKey,
    key_data=st.binary(min_size=16, max_size=16),
    rolling_start_interval_number=st.integers(0, 2**32 - 1),
    rolling_period=st.integers(0, 2**32 - 1),
    transmission_risk_level=st.integers(-(2**31), 2**31 - 1),
    visited_countries=st.lists(st.sampled_from(["DE", "FR", "NL", "AB"]), max_size=4).map(tuple),
    origin=st.sampled_from(["DE", "FR"]),
    report_type=st.integers(0, 5),
    days_since_onset_of_symptoms=st.integers(-(2**31), 2**31 - 1),
)


@given(st.lists(_keys, max_size=6), st.randoms())
def test_properties_round_trip_and_order_independence(
    keys: list[FederationKey], rnd: random.Random
) -> None:
    for key in keys:
        assert decode_record(canonical_record(key)) == key
    assert parse_batch(encode_batch(keys)) == keys
    assert parse_batch_json(encode_batch_json(keys)) == keys
    shuffled = keys[:]
    rnd.shuffle(shuffled)
    assert batch_signature_input(shuffled) == batch_signature_input(keys)


@given(st.binary(max_size=64))
def test_parser_given_any_bytes_raises_only_its_own_error(data: bytes) -> None:
    with contextlib.suppress(FederationFormatError):
        parse_batch(data)
    with contextlib.suppress(FederationFormatError):
        parse_batch_json(data)
