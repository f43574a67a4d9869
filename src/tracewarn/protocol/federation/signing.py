"""Batch signatures and member certificates: the recipes over `_cms`.

EU Federation Gateway Service, software design, "Security" 2-4 and `BatchSignatureVerifier`
(https://github.com/eu-federation-gateway-service/efgs-federation-gateway): a batch is signed by
the uploading member's SIGNING certificate as detached CMS over `batch_signature_input`; the
verifier requires that certificate to be inside its validity period, registered for the member,
to name exactly one country `C`, and every key's `origin` to be that country. Registered
certificates are vouched for by the operator's trust anchor, which signs each certificate's PEM
text. Pure: `now` and the set of trusted thumbprints are passed in.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from tracewarn.protocol.errors import FederationFormatError, InvalidSignature
from tracewarn.protocol.federation._cms import (
    SignerKey,
    cms_sign_detached,
    cms_verify_detached,
    decode_signature_header,
)
from tracewarn.protocol.federation.batch import FederationKey, batch_signature_input

__all__ = [
    "SignerKey",
    "VerifiedSigner",
    "certificate_country",
    "certificate_pem",
    "certificate_thumbprint",
    "load_certificate",
    "operator_sign",
    "sign_batch",
    "verify_batch",
    "verify_operator_signature",
]


@dataclass(frozen=True, slots=True)
class VerifiedSigner:
    certificate: x509.Certificate
    thumbprint: str
    country: str


def certificate_thumbprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER as 64 lower-case hex digits (zero-padded, unlike upstream's bug)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_certificate(pem: str | bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    except ValueError:
        raise FederationFormatError("not a PEM X.509 certificate") from None


def certificate_country(cert: x509.Certificate) -> str:
    """The subject's one `C`; a certificate with none or several names no member."""
    values = cert.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    if len(values) != 1:
        raise FederationFormatError("a member certificate's subject needs exactly one C")
    return str(values[0].value)


def sign_batch(
    keys: Sequence[FederationKey], *, key: SignerKey, certificate: x509.Certificate
) -> str:
    """The `batchSignature` header for `keys`: Base64 of detached DER CMS (§ batch signature)."""
    der = cms_sign_detached(batch_signature_input(keys), key=key, certificate=certificate)
    return base64.b64encode(der).decode("ascii")


def verify_batch(
    keys: Sequence[FederationKey],
    signature_b64: str,
    *,
    now: dt.datetime,
    trusted_thumbprints: Collection[str],
) -> VerifiedSigner:
    """Every check EFGS's `BatchSignatureVerifier` makes; raises `InvalidSignature` on any failure.

    `trusted_thumbprints`: the SIGNING certificates registered (and not revoked) for the member
    that uploaded, or for the origin the audit names.
    """
    try:
        der = decode_signature_header(signature_b64)
        cert = cms_verify_detached(der, batch_signature_input(keys))
    except FederationFormatError as exc:
        raise InvalidSignature(str(exc)) from None
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise InvalidSignature("the signing certificate is expired or not yet valid")
    thumbprint = certificate_thumbprint(cert)
    if thumbprint not in trusted_thumbprints:
        raise InvalidSignature("the signing certificate is not registered for this member")
    try:
        country = certificate_country(cert)
    except FederationFormatError as exc:
        raise InvalidSignature(str(exc)) from None
    if any(k.origin != country for k in keys):
        raise InvalidSignature(f"every key's origin must be the signer's country {country}")
    return VerifiedSigner(cert, thumbprint, country)


def operator_sign(pem: str, anchor_key: SignerKey) -> str:
    """The trust anchor's signature over a certificate's PEM text (Base64), as EFGS onboarding."""
    data = pem.encode("ascii")
    if isinstance(anchor_key, ec.EllipticCurvePrivateKey):
        sig = anchor_key.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        sig = anchor_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(sig).decode("ascii")


def verify_operator_signature(pem: str, signature_b64: str, anchor: x509.Certificate) -> None:
    """Raise `InvalidSignature` unless the anchor signed exactly this PEM text."""
    try:
        sig = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSignature("operator signature is not Base64") from None
    public = anchor.public_key()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(sig, pem.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(sig, pem.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        else:
            raise InvalidSignature("unsupported trust anchor key")
    except _CryptoInvalidSignature:
        raise InvalidSignature("the trust anchor did not sign this certificate") from None
