"""CMS (RFC 5652) SignedData with detached content: the one hazardous layer of federation.

Signing uses pyca/cryptography's PKCS#7 builder. cryptography has no CMS verification API, so
verification parses the container with asn1crypto and checks it with cryptography primitives:
the signer's certificate is found in `certificates` by its signer identifier, and the signature
covers either the content itself or, when signed attributes are present (what most CMS
libraries emit), their DER as a SET OF after the `messageDigest` attribute matched the content.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from tracewarn.protocol.errors import FederationFormatError, InvalidSignature

__all__ = ["SignerKey", "cms_sign_detached", "cms_verify_detached"]

SignerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def cms_sign_detached(content: bytes, *, key: SignerKey, certificate: x509.Certificate) -> bytes:
    """DER SignedData over `content` (absent from the container), carrying only `certificate`.

    No signed attributes: cryptography would stamp a signing time from the system clock, and the
    protocol layer reads no clock. EFGS verifiers accept both forms (the time is not checked).
    """
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(certificate, key, hashes.SHA256())
    )
    return builder.sign(
        serialization.Encoding.DER,
        [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.NoAttributes],
    )


def _load(data: bytes) -> Any:
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise FederationFormatError("the batch signature is not CMS SignedData")
        signed = info["content"]
        signed.native  # parse everything now, so malformed inner fields fail here  # noqa: B018
    except FederationFormatError:
        raise
    except (ValueError, TypeError, KeyError):
        raise FederationFormatError("the batch signature is not DER CMS") from None
    return signed


def _signer_certificate(signed: Any, signer: Any) -> x509.Certificate:
    sid = signer["sid"]
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if cert.issuer == ias["issuer"] and cert.serial_number == ias["serial_number"].native:
                return _load_certificate(cert.dump())
        elif cert.key_identifier == sid.chosen.native:
            return _load_certificate(cert.dump())
    raise InvalidSignature("the signer's certificate is not in the CMS")


def _load_certificate(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise FederationFormatError("the signer's certificate is malformed") from None


def _verify_raw(
    cert: x509.Certificate, signature: bytes, data: bytes, algo: str, digest: str
) -> None:
    try:
        public = cert.public_key()
    except ValueError:
        raise FederationFormatError("the signer's certificate holds no usable key") from None
    hash_algorithm = _HASHES[digest]()
    try:
        if isinstance(public, rsa.RSAPublicKey) and algo == "rsassa_pkcs1v15":
            public.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(public, ec.EllipticCurvePublicKey) and algo == "ecdsa":
            public.verify(signature, data, ec.ECDSA(hash_algorithm))
        else:
            raise InvalidSignature(f"unsupported signature algorithm {algo} for this key")
    except _CryptoInvalidSignature:
        raise InvalidSignature("the batch signature does not verify") from None


def cms_verify_detached(signature_der: bytes, content: bytes) -> x509.Certificate:
    """Verify the first SignerInfo over `content`; return the signer's certificate.

    Raises `FederationFormatError` for a malformed container and `InvalidSignature` when the
    signature, digest or certificate lookup fails. Certificate validity and trust are the
    caller's (`verify_batch`).
    """
    signed = _load(signature_der)
    if signed["encap_content_info"]["content"].native is not None:
        raise FederationFormatError("the batch signature must be detached (no eContent)")
    signers = signed["signer_infos"]
    if len(signers) == 0:
        raise FederationFormatError("the batch signature has no SignerInfo")
    signer = signers[0]
    cert = _signer_certificate(signed, signer)
    digest = signer["digest_algorithm"]["algorithm"].native
    if digest not in _HASHES:
        raise InvalidSignature(f"unsupported digest algorithm {digest}")
    algo = signer["signature_algorithm"].signature_algo
    signature = signer["signature"].native
    attrs = signer["signed_attrs"]
    if attrs.native is None or len(attrs) == 0:
        _verify_raw(cert, signature, content, algo, digest)
        return cert
    message_digest = None
    for attr in attrs:
        if attr["type"].native == "message_digest":
            message_digest = attr["values"][0].native
        elif attr["type"].native == "content_type" and attr["values"][0].native != "data":
            raise InvalidSignature("the signed content type is not id-data")
    if message_digest != hashlib.new(digest, content).digest():
        raise InvalidSignature("the batch signature's message digest does not match the keys")
    # Signed attributes are signed as an explicit SET OF, not as the [0] IMPLICIT on the wire.
    der = attrs.dump()
    _verify_raw(cert, signature, b"\x31" + der[1:], algo, digest)
    return cert


def decode_signature_header(value: str) -> bytes:
    """The `batchSignature` header: standard Base64 of the DER container."""
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise FederationFormatError("batchSignature is not standard Base64") from None
