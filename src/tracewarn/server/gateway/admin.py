"""Operator tasks behind `tracewarn gateway init|member|revoke`: anchor, member onboarding.

A member directory holds what a member backend needs (`federation_*` settings of the backend):
`auth.pem`/`auth.key` (TLS client certificate), `signing.pem`/`signing.key` (batch signatures)
and `anchor.pem` (to verify other members' certificates in the audit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from tracewarn.protocol.federation import load_certificate, operator_sign
from tracewarn.server.gateway.certificates import register_certificate
from tracewarn.server.gateway.context import GatewayContext
from tracewarn.server.gateway.pki import (
    IssuedCertificate,
    create_anchor,
    issue_certificate,
    load_key,
    write_key,
)

__all__ = ["MemberFiles", "init_anchor", "load_anchor", "onboard_member", "register_issued"]


@dataclass(frozen=True)
class MemberFiles:
    directory: Path
    country: str

    @property
    def auth_certificate(self) -> Path:
        return self.directory / "auth.pem"

    @property
    def signing_certificate(self) -> Path:
        return self.directory / "signing.pem"

    @property
    def signing_key(self) -> Path:
        return self.directory / "signing.key"

    @property
    def anchor(self) -> Path:
        return self.directory / "anchor.pem"


def init_anchor(directory: Path, *, now: dt.datetime) -> IssuedCertificate:
    """Create `anchor.pem` and `anchor.key` in `directory` (refuses to overwrite)."""
    cert_path, key_path = directory / "anchor.pem", directory / "anchor.key"
    if cert_path.exists() or key_path.exists():
        raise FileExistsError(f"{directory} already holds a trust anchor")
    anchor = create_anchor(now=now)
    directory.mkdir(parents=True, exist_ok=True)
    write_key(key_path, anchor.key)
    cert_path.write_text(anchor.pem, encoding="ascii")
    return anchor


def load_anchor(directory: Path) -> IssuedCertificate:
    key = load_key(directory / "anchor.key")
    cert = load_certificate((directory / "anchor.pem").read_bytes())
    return IssuedCertificate(key, cert)  # type: ignore[arg-type]


def register_issued(
    ctx: GatewayContext, anchor: IssuedCertificate, cert: x509.Certificate, kind: str
) -> None:
    from tracewarn.protocol.federation import certificate_pem

    with ctx.sessions.begin() as session:
        register_certificate(
            session,
            certificate=cert,
            kind=kind,
            operator_signature=operator_sign(certificate_pem(cert), anchor.key),
            now=ctx.now(),
        )


def onboard_member(
    ctx: GatewayContext,
    anchor: IssuedCertificate,
    *,
    country: str,
    out_dir: Path,
    now: dt.datetime,
    days: int = 365,
) -> MemberFiles:
    """Issue and register AUTHENTICATION and SIGNING certificates; write the member's files."""
    files = MemberFiles(out_dir, country)
    out_dir.mkdir(parents=True, exist_ok=True)
    for kind, stem in (("AUTHENTICATION", "auth"), ("SIGNING", "signing")):
        issued = issue_certificate(anchor, country=country, kind=kind, now=now, days=days)
        register_issued(ctx, anchor, issued.certificate, kind)
        write_key(out_dir / f"{stem}.key", issued.key)
        (out_dir / f"{stem}.pem").write_text(issued.pem, encoding="ascii")
    (out_dir / "anchor.pem").write_text(anchor.pem, encoding="ascii")
    return files
