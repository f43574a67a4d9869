"""The pure verification formats: teleTAN alphabet and check character, UUID v4, test GUID."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracewarn.protocol.errors import VerificationCodeError
from tracewarn.protocol.verification import (
    TELETAN_ALPHABET,
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


def _reference_check(body: str) -> str:
    # Written from the spec sentence (CWA verification server [docs/specifications.md#cwa-verification]), independently of the code.
    c = hashlib.sha256(body.encode()).hexdigest()[0].upper()
    return "G" if c == "0" else "H" if c == "1" else c


def test_alphabet_has_no_lookalikes() -> None:
    assert len(TELETAN_ALPHABET) == 31
    assert not set("01OIL") & set(TELETAN_ALPHABET)


@pytest.mark.parametrize("body", ["222222222", "ZZZZZZZZZ", "ABCDEFGHJ", "R3Q8CZ5TP"])
def test_check_character_matches_the_spec_rule(body: str) -> None:
    assert teletan_check_character(body) == _reference_check(body)
    assert teletan_check_character(body) in TELETAN_ALPHABET


@given(st.binary(min_size=16, max_size=16))
def test_made_teletans_validate(random: bytes) -> None:
    tan = make_teletan(random)
    assert len(tan) == 10 and set(tan) <= set(TELETAN_ALPHABET)
    assert tan[-1] == _reference_check(tan[:-1])
    assert is_teletan(tan)


@given(st.binary(min_size=16, max_size=16), st.integers(0, 8), st.sampled_from(TELETAN_ALPHABET))
def test_a_changed_body_character_is_caught_unless_the_check_collides(
    random: bytes, pos: int, char: str
) -> None:
    tan = make_teletan(random)
    changed = tan[:pos] + char + tan[pos + 1 :]
    assert is_teletan(changed) == (_reference_check(changed[:-1]) == tan[-1])


@pytest.mark.parametrize(
    "bad", ["", "222222222", "22222222222", "0000000000", "abcdefghjk", "R3Q8CZ5TP!"]
)
def test_malformed_teletans_are_rejected(bad: str) -> None:
    assert not is_teletan(bad)


def test_wrong_sizes_raise_verification_errors() -> None:
    for maker in (make_teletan, make_uuid4, make_test_guid):
        with pytest.raises(VerificationCodeError):
            maker(b"\x00" * 5)
    with pytest.raises(VerificationCodeError):
        teletan_check_character("0000")
    with pytest.raises(VerificationCodeError):
        hash_test_guid("not a guid")


@given(st.binary(min_size=16, max_size=16))
def test_uuid4_agrees_with_the_standard_library(random: bytes) -> None:
    text = make_uuid4(random)
    parsed = uuid.UUID(text)
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
    assert is_uuid4(text)


@given(st.binary(min_size=19, max_size=19))
def test_guid_shape_and_hash(random: bytes) -> None:
    guid = make_test_guid(random)
    assert is_test_guid(guid) and guid[6] == "-" and guid[:6] == random[:3].hex().upper()
    digest = hash_test_guid(guid)
    assert digest == hashlib.sha256(guid.encode()).hexdigest() and is_hashed_guid(digest)
