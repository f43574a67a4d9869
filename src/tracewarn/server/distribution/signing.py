"""Region signing keys: ECDSA P-256, a key id and version per key, rotation, public key list.

Packages are signed by every unretired key of their region, newest first (GAEN export file format [docs/specifications.md#gaen-export] allows
up to 10 signatures, most recent first), so during a rotation old and new app releases both
verify. Private keys are stored encrypted under the server secret (`SecretBox`); the public
keys are served at `/version/v1/signing-keys` and written beside the packages.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from tracewarn.server.context import ServerContext
from tracewarn.server.models import SigningKey

__all__ = [
    "MAX_SIGNATURES",
    "RegionSigner",
    "active_signers",
    "create_signing_key",
    "public_key_document",
    "retire_signing_key",
]

MAX_SIGNATURES = 10


@dataclass(frozen=True)
class RegionSigner:
    region: str
    key_id: str
    key_version: str
    private_key: ec.EllipticCurvePrivateKey


def _context(region: str, version: str) -> bytes:
    return f"signing-key\x00{region}\x00{version}".encode()


def create_signing_key(
    session: Session,
    ctx: ServerContext,
    *,
    region: str,
    key_id: str | None = None,
    private_key: ec.EllipticCurvePrivateKey | None = None,
) -> SigningKey:
    """Add the next version (`v1`, `v2`, ...) of `region`'s key; old versions keep signing until
    retired. `key_id` defaults to the previous version's id, else the region code."""
    rows = session.scalars(
        sa.select(SigningKey).where(SigningKey.region == region).order_by(SigningKey.id)
    ).all()
    version = f"v{len(rows) + 1}"
    key_id = key_id or (rows[-1].key_id if rows else region)
    key = private_key or ec.generate_private_key(ec.SECP256R1())
    if not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("export signing keys are ECDSA P-256")
    pem = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    row = SigningKey(
        region=region,
        key_id=key_id,
        key_version=version,
        private_key=ctx.box.encrypt(pem, context=_context(region, version)),
        public_key_pem=public,
        created_at=ctx.now(),
        retired_at=None,
    )
    session.add(row)
    session.flush()
    return row


def retire_signing_key(
    session: Session, ctx: ServerContext, *, region: str, key_version: str
) -> None:
    row = session.scalars(
        sa.select(SigningKey).where(
            SigningKey.region == region, SigningKey.key_version == key_version
        )
    ).first()
    if row is None:
        raise LookupError(f"no signing key {region}/{key_version}")
    live = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(SigningKey)
            .where(SigningKey.region == region, SigningKey.retired_at.is_(None))
        )
        or 0
    )
    if row.retired_at is None and live <= 1:
        raise ValueError("cannot retire the last live key of a region; create a new version first")
    row.retired_at = row.retired_at or ctx.now()


def active_signers(session: Session, ctx: ServerContext, *, region: str) -> list[RegionSigner]:
    """The region's live keys, newest first; a first key is created when there is none."""
    rows = list(
        session.scalars(
            sa.select(SigningKey)
            .where(SigningKey.region == region, SigningKey.retired_at.is_(None))
            .order_by(SigningKey.id.desc())
        ).all()
    )
    if not rows:
        rows = [create_signing_key(session, ctx, region=region)]
    signers = []
    for row in rows[:MAX_SIGNATURES]:
        der = ctx.box.decrypt(row.private_key, context=_context(row.region, row.key_version))
        key = serialization.load_der_private_key(der, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        signers.append(RegionSigner(row.region, row.key_id, row.key_version, key))
    return signers


def public_key_document(session: Session) -> dict[str, object]:
    """Every region's public keys (retired ones marked) for devices to pin."""
    rows = session.scalars(sa.select(SigningKey).order_by(SigningKey.region, SigningKey.id)).all()
    return {
        "algorithm": "1.2.840.10045.4.3.2",
        "keys": [
            {
                "region": r.region,
                "keyId": r.key_id,
                "keyVersion": r.key_version,
                "publicKeyPem": r.public_key_pem,
                "createdAt": r.created_at,
                "retiredAt": r.retired_at,
            }
            for r in rows
        ],
    }
