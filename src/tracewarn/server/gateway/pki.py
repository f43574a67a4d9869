"""Local PKI for federation: the operator's trust anchor and member certificates.

EFGS onboarding (software design, "Security" 1-6 and Appendix A): each member holds an
AUTHENTICATION certificate (TLS client), a SIGNING certificate (batch signatures) and a CALLBACK
certificate (its callback server); the operator signs every registered certificate's PEM text with
the trust anchor so a tampered database row cannot add a member. EFGS members may self-sign; here
the anchor also issues the certificates, so a local setup needs one command per member. Keys are
ECDSA P-256 with SHA-256 (federation spec decision 5). Files are written 0600.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tracewarn.protocol.federation import SignerKey, certificate_pem, validate_country

__all__ = [
    "CERT_KINDS",
    "IssuedCertificate",
    "create_anchor",
    "issue_certificate",
    "load_key",
    "write_key",
]

CERT_KINDS = ("AUTHENTICATION", "SIGNING", "CALLBACK")


@dataclass(frozen=True)
class IssuedCertificate:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return certificate_pem(self.certificate)


def _name(country: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tracewarn"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def create_anchor(*, now: dt.datetime, days: int = 3650, country: str = "EU") -> IssuedCertificate:
    """A self-signed CA certificate for the gateway operator."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(country, "tracewarn federation trust anchor")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return IssuedCertificate(key, cert)


def issue_certificate(
    anchor: IssuedCertificate,
    *,
    country: str,
    kind: str,
    now: dt.datetime,
    days: int = 365,
    not_before: dt.datetime | None = None,
    host: str = "localhost",
) -> IssuedCertificate:
    """A member certificate of `kind` for `country`, issued by the anchor."""
    validate_country(country)
    if kind not in CERT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(CERT_KINDS)}")
    key = ec.generate_private_key(ec.SECP256R1())
    usage = {
        "AUTHENTICATION": ExtendedKeyUsageOID.CLIENT_AUTH,
        "CALLBACK": ExtendedKeyUsageOID.SERVER_AUTH,
    }
    start = not_before or now - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(country, host if kind == "CALLBACK" else f"{country} {kind.lower()}"))
        .issuer_name(anchor.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
    )
    if kind in usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage[kind]]), critical=False)
    if kind == "CALLBACK":
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False
        )
    return IssuedCertificate(key, builder.sign(anchor.key, hashes.SHA256()))


def write_key(path: Path, key: SignerKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def load_key(path: Path) -> SignerKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        from cryptography.hazmat.primitives.asymmetric import rsa

        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path}: not an EC or RSA private key")
    return key
