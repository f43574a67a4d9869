"""Detached CMS batch signatures: round trip and the failure cases of EFGS's verifier tests."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import replace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from tracewarn.protocol.errors import InvalidSignature
from tracewarn.protocol.federation import (
    FederationKey,
    batch_signature_input,
    certificate_pem,
    certificate_thumbprint,
    operator_sign,
    sign_batch,
    verify_batch,
    verify_operator_signature,
)
from tracewarn.server.gateway.pki import create_anchor, issue_certificate

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def _key(i: int, origin: str = "DE") -> FederationKey:
    return FederationKey(bytes([i]) * 16, 2_950_000, 144, 3, ("DE", "FR"), origin, 1, 2)


@pytest.fixture(scope="module")
def pki() -> tuple:
    anchor = create_anchor(now=NOW)
    de = issue_certificate(anchor, country="DE", kind="SIGNING", now=NOW)
    fr = issue_certificate(anchor, country="FR", kind="SIGNING", now=NOW)
    return anchor, de, fr


def test_round_trip_in_any_key_order(pki: tuple) -> None:
    _, de, _ = pki
    keys = [_key(i) for i in range(5)]
    sig = sign_batch(keys, key=de.key, certificate=de.certificate)
    trusted = {certificate_thumbprint(de.certificate)}
    signer = verify_batch(keys[::-1], sig, now=NOW, trusted_thumbprints=trusted)
    assert signer.country == "DE"
    assert signer.thumbprint == certificate_thumbprint(de.certificate)


def test_signed_attributes_form_verifies_too(pki: tuple) -> None:
    # What most CMS signers (BouncyCastle, OpenSSL, cryptography's default) emit.
    _, de, _ = pki
    keys = [_key(1), _key(2)]
    der = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(batch_signature_input(keys))
        .add_signer(de.certificate, de.key, hashes.SHA256())
        .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature])
    )
    sig = base64.b64encode(der).decode()
    trusted = {certificate_thumbprint(de.certificate)}
    verify_batch(keys, sig, now=NOW, trusted_thumbprints=trusted)
    with pytest.raises(InvalidSignature, match="digest"):
        verify_batch(keys[:1], sig, now=NOW, trusted_thumbprints=trusted)


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "not-yet-valid",
        "unregistered",
        "other-keys",
        "field-changed",
        "origin-differs",
        "corrupt-base64",
        "corrupt-der",
        "no-certificate",
        "attached-content",
        "other-signer",
    ],
)
def test_verifier_refuses(pki: tuple, case: str) -> None:
    anchor, de, fr = pki
    keys = [_key(1), _key(2)]
    trusted = {certificate_thumbprint(de.certificate)}
    sig = sign_batch(keys, key=de.key, certificate=de.certificate)
    now = NOW
    if case == "expired":
        now = NOW + dt.timedelta(days=400)
    elif case == "not-yet-valid":
        now = NOW - dt.timedelta(days=1)
    elif case == "unregistered":
        trusted = {certificate_thumbprint(fr.certificate)}
    elif case == "other-keys":
        keys = [_key(1), _key(3)]
    elif case == "field-changed":
        keys = [replace(keys[0], visited_countries=("FR", "DE")), keys[1]]
    elif case == "origin-differs":
        keys = [_key(1, "FR"), _key(2, "FR")]
        sig = sign_batch(keys, key=de.key, certificate=de.certificate)
    elif case == "corrupt-base64":
        sig = "!" + sig[1:]
    elif case == "corrupt-der":
        raw = bytearray(base64.b64decode(sig))
        raw[len(raw) // 2] ^= 0xFF
        sig = base64.b64encode(bytes(raw)).decode()
    elif case == "no-certificate":
        der = (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(batch_signature_input(keys))
            .add_signer(de.certificate, de.key, hashes.SHA256())
            .sign(
                serialization.Encoding.DER,
                [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.NoCerts],
            )
        )
        sig = base64.b64encode(der).decode()
    elif case == "attached-content":
        der = (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(batch_signature_input(keys))
            .add_signer(de.certificate, de.key, hashes.SHA256())
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.NoAttributes])
        )
        sig = base64.b64encode(der).decode()
    elif case == "other-signer":
        # A DE certificate not issued to this member signs with the member's certificate inside.
        rogue = issue_certificate(anchor, country="DE", kind="SIGNING", now=NOW)
        sig = sign_batch(keys, key=rogue.key, certificate=de.certificate)
    with pytest.raises(InvalidSignature):
        verify_batch(keys, sig, now=now, trusted_thumbprints=trusted)


def test_operator_signature_pins_the_pem_text(pki: tuple) -> None:
    anchor, de, _ = pki
    pem = certificate_pem(de.certificate)
    sig = operator_sign(pem, anchor.key)
    verify_operator_signature(pem, sig, anchor.certificate)
    other = create_anchor(now=NOW)
    with pytest.raises(InvalidSignature):
        verify_operator_signature(pem, sig, other.certificate)
    with pytest.raises(InvalidSignature):
        verify_operator_signature(pem.replace("\n", "\r\n"), sig, anchor.certificate)
    assert isinstance(de.certificate, x509.Certificate)
