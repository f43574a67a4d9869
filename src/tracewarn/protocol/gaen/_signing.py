"""Raw ECDSA P-256 / SHA-256 for export files; only `export` imports this (GAEN export file format [docs/specifications.md#gaen-export])."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from tracewarn.protocol.errors import CryptoFormatError

__all__ = [
    "ECDSA_P256_SHA256_OID",
    "load_private_key",
    "load_public_key",
    "sha256",
    "sign_digest",
    "verify_digest",
]

ECDSA_P256_SHA256_OID = "1.2.840.10045.4.3.2"
# RFC 6979 deterministic nonces: signing needs no randomness, so the protocol layer stays pure
# and the same export.bin and key always give the same export.sig.
_SIGN = ec.ECDSA(utils.Prehashed(hashes.SHA256()), deterministic_signing=True)
_VERIFY = ec.ECDSA(utils.Prehashed(hashes.SHA256()))


def sha256(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def sign_digest(private_key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    return private_key.sign(digest, _SIGN)


def verify_digest(public_key: ec.EllipticCurvePublicKey, signature: bytes, digest: bytes) -> bool:
    try:
        public_key.verify(signature, digest, _VERIFY)
    except _CryptoInvalidSignature:
        return False
    return True


def _check_curve(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> None:
    if not isinstance(key.curve, ec.SECP256R1):
        raise CryptoFormatError(f"export signing keys are P-256, got {key.curve.name}")


def load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from PEM (PKCS#8 or SEC1 "EC PRIVATE KEY"), unencrypted."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, _UnsupportedAlgorithm) as exc:
        raise CryptoFormatError(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CryptoFormatError("export signing keys are ECDSA P-256, not another key type")
    _check_curve(key)
    return key


def load_public_key(pem: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from PEM (SubjectPublicKeyInfo)."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, _UnsupportedAlgorithm) as exc:
        raise CryptoFormatError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise CryptoFormatError("export verification keys are ECDSA P-256, not another key type")
    _check_curve(key)
    return key
