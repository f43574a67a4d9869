"""A gateway on SQLite and PostgreSQL with a manual clock and three onboarded members."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tracewarn.protocol.federation import FederationKey, load_certificate, sign_batch
from tracewarn.server.federation.client import GatewayClient, identity_headers
from tracewarn.server.gateway.admin import MemberFiles, init_anchor, onboard_member
from tracewarn.server.gateway.app import create_gateway_app
from tracewarn.server.gateway.context import GatewayContext
from tracewarn.server.gateway.pki import IssuedCertificate, load_key
from tracewarn.server.gateway.settings import GatewaySettings
from tracewarn.server.testing import asgi_client

T0 = int(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC).timestamp())


@dataclass
class Gateway:
    app: Any
    ctx: GatewayContext
    anchor: IssuedCertificate
    members: dict[str, MemberFiles]
    now: list[float]
    http: httpx.Client
    clients: dict[str, GatewayClient] = field(default_factory=dict)

    def member(self, country: str) -> GatewayClient:
        if country not in self.clients:
            auth = load_certificate(self.members[country].auth_certificate.read_bytes())
            self.clients[country] = GatewayClient(self.http, identity_headers(auth))
        return self.clients[country]

    def headers(self, country: str) -> dict[str, str]:
        auth = load_certificate(self.members[country].auth_certificate.read_bytes())
        return identity_headers(auth)

    def sign(self, country: str, keys: list[FederationKey]) -> str:
        files = self.members[country]
        return sign_batch(
            keys,
            key=load_key(files.signing_key),
            certificate=load_certificate(files.signing_certificate.read_bytes()),
        )

    def keys(
        self, country: str, n: int, *, seed: int = 0, visited: tuple[str, ...] = ()
    ) -> list[FederationKey]:
        today = int(self.now[0]) // 86400 * 144
        return [
            FederationKey(
                key_data=bytes([seed % 256, i % 256, i // 256]) + bytes(13),
                rolling_start_interval_number=today - 144 * (1 + i % 10),
                rolling_period=144,
                transmission_risk_level=i % 9,
                visited_countries=visited or (country,),
                origin=country,
                report_type=1,
                days_since_onset_of_symptoms=i % 5,
            )
            for i in range(n)
        ]


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[Gateway]:
    now = [float(T0)]
    settings = GatewaySettings(data_dir=tmp_path / "gw", database_url=database_url)
    when = dt.datetime.fromtimestamp(T0, dt.UTC)
    anchor = init_anchor(settings.resolved_anchor.parent, now=when)
    app = create_gateway_app(settings, clock=lambda: now[0])
    ctx: GatewayContext = app.state.ctx
    members = {
        c: onboard_member(ctx, anchor, country=c, out_dir=tmp_path / "members" / c, now=when)
        for c in ("AA", "BB", "CC")
    }
    with asgi_client(app) as http:
        yield Gateway(app, ctx, anchor, members, now, http)
    ctx.engine.dispose()
