"""Member certificates: registration under the trust anchor, lookup, client authentication.

EFGS (software design "Security" 1-6; `CertificateAuthentificationFilter`, `CertificateService`):
a TLS terminator in front of the gateway requires and validates the member's client certificate
and forwards `X-SSL-Client-SHA256` (hex, or Base64 of the 32 bytes) and `X-SSL-Client-DN`. The
gateway looks the pair up among AUTHENTICATION rows that are not revoked; every row must carry
the trust anchor's signature over its PEM, and a row whose PEM, thumbprint or signature does not
check out counts as absent, so a tampered database row cannot add a member. The headers are only
trustworthy because nothing but the terminator can reach the gateway (docs/federation.md).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import urllib.parse
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography import x509
from sqlalchemy.orm import Session

from tracewarn.protocol.errors import ProtocolError
from tracewarn.protocol.federation import (
    certificate_country,
    certificate_pem,
    certificate_thumbprint,
    load_certificate,
    verify_operator_signature,
)
from tracewarn.server.gateway.models import MemberCertificate
from tracewarn.server.problems import Problem

__all__ = [
    "Member",
    "authenticate",
    "register_certificate",
    "revoke_certificate",
    "trusted_certificates",
]


@dataclass(frozen=True, slots=True)
class Member:
    country: str
    thumbprint: str
    certificate_pem: str
    operator_signature: str


def register_certificate(
    session: Session, *, certificate: x509.Certificate, kind: str, operator_signature: str, now: int
) -> MemberCertificate:
    """Store a certificate row (the operator signed its PEM beforehand)."""
    pem = certificate_pem(certificate)
    row = MemberCertificate(
        thumbprint=certificate_thumbprint(certificate),
        country=certificate_country(certificate),
        kind=kind,
        revoked=False,
        certificate_pem=pem,
        operator_signature=operator_signature,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def revoke_certificate(session: Session, thumbprint: str) -> int:
    result = session.execute(
        sa.update(MemberCertificate)
        .where(MemberCertificate.thumbprint == thumbprint)
        .values(revoked=True)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _intact(row: MemberCertificate, anchor: x509.Certificate) -> bool:
    try:
        cert = load_certificate(row.certificate_pem)
        if certificate_thumbprint(cert) != row.thumbprint:
            return False
        if certificate_country(cert) != row.country:
            return False
        verify_operator_signature(row.certificate_pem, row.operator_signature, anchor)
    except ProtocolError:
        return False
    return True


def trusted_certificates(
    session: Session, anchor: x509.Certificate, *, country: str, kind: str
) -> list[MemberCertificate]:
    """Rows of `kind` for `country` that are not revoked and pass the anchor check."""
    rows = session.scalars(
        sa.select(MemberCertificate).where(
            MemberCertificate.country == country,
            MemberCertificate.kind == kind,
            MemberCertificate.revoked.is_(False),
        )
    ).all()
    return [r for r in rows if _intact(r, anchor)]


def _thumbprint(header: str) -> str | None:
    value = header.strip()
    if len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    if "%" in value:
        value = urllib.parse.unquote(value)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _dn_country(header: str) -> str | None:
    dn = urllib.parse.unquote(header)
    countries = []
    for part in dn.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().upper() == "C":
            countries.append(value.strip())
    return countries[0] if len(countries) == 1 else None


def authenticate(
    session: Session,
    anchor: x509.Certificate,
    *,
    thumbprint_header: str | None,
    dn_header: str | None,
    now: int,
) -> Member:
    """The member behind the client certificate headers, or a 403/400 Problem (EFGS order)."""
    if not thumbprint_header or not dn_header:
        raise Problem(403, "forbidden", "no client certificate")
    country = _dn_country(dn_header)
    if country is None:
        raise Problem(400, "bad-request", "the client certificate DN needs exactly one C")
    thumbprint = _thumbprint(thumbprint_header)
    when = dt.datetime.fromtimestamp(now, dt.UTC)
    for row in trusted_certificates(session, anchor, country=country, kind="AUTHENTICATION"):
        if row.thumbprint != thumbprint:
            continue
        cert = load_certificate(row.certificate_pem)
        if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
            break
        return Member(country, row.thumbprint, row.certificate_pem, row.operator_signature)
    raise Problem(403, "forbidden", "unknown, revoked or expired client certificate")
