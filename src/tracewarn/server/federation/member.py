"""This backend as a federation member: its certificates and its client to the gateway."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography import x509

from tracewarn.protocol.federation import SignerKey, load_certificate
from tracewarn.server.federation.client import GatewayClient, identity_headers
from tracewarn.server.gateway.pki import load_key
from tracewarn.server.settings import Settings

__all__ = ["MemberCredentials", "gateway_client", "load_credentials"]


@dataclass(frozen=True)
class MemberCredentials:
    directory: Path
    signing_key: SignerKey
    signing_certificate: x509.Certificate
    auth_certificate: x509.Certificate
    anchor: x509.Certificate


def load_credentials(directory: Path) -> MemberCredentials:
    """Read the files `tracewarn gateway member` wrote (or the operator handed over)."""
    return MemberCredentials(
        directory=directory,
        signing_key=load_key(directory / "signing.key"),
        signing_certificate=load_certificate((directory / "signing.pem").read_bytes()),
        auth_certificate=load_certificate((directory / "auth.pem").read_bytes()),
        anchor=load_certificate((directory / "anchor.pem").read_bytes()),
    )


@contextlib.contextmanager
def gateway_client(
    settings: Settings,
    credentials: MemberCredentials,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Iterator[GatewayClient]:
    """A client for the configured gateway: mTLS with auth.pem/auth.key, or for local use the
    identity headers a TLS terminator would set (`federation_identity_headers`)."""
    if not settings.federation_gateway_url:
        raise ValueError("TRACEWARN_FEDERATION_GATEWAY_URL is not set")
    directory = credentials.directory
    # mTLS to the terminator, unless the identity headers stand in for it (local use).
    local = transport is not None or settings.federation_identity_headers
    verify: ssl.SSLContext | bool = True
    if not local:
        verify = ssl.create_default_context()
        verify.load_cert_chain(str(directory / "auth.pem"), str(directory / "auth.key"))
    headers = (
        identity_headers(credentials.auth_certificate)
        if settings.federation_identity_headers
        else {}
    )
    with httpx.Client(
        base_url=settings.federation_gateway_url, verify=verify, transport=transport, timeout=60.0
    ) as client:
        yield GatewayClient(client, headers)
