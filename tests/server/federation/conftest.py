"""Two member backends (AA, BB) and a gateway, all in-process, sharing one manual clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import T0, Server
from tracewarn.protocol.gaen import read_export
from tracewarn.server import create_app
from tracewarn.server.distribution import layout
from tracewarn.server.distribution.publish import publish
from tracewarn.server.distribution.routes import blob_name
from tracewarn.server.federation.jobs import federate
from tracewarn.server.gateway.admin import init_anchor, onboard_member
from tracewarn.server.gateway.app import create_gateway_app, run_gateway_jobs
from tracewarn.server.gateway.context import GatewayContext
from tracewarn.server.gateway.settings import GatewaySettings
from tracewarn.server.settings import Settings
from tracewarn.server.testing import SyncASGITransport, asgi_client
from tracewarn.server.verification.service import create_api_key

GATEWAY_URL = "http://gateway.test"


@dataclass
class Federation:
    now: list[float]
    gateway: GatewayContext
    gateway_app: Any
    backends: dict[str, Server]
    transports: list[SyncASGITransport]

    def transport(self) -> SyncASGITransport:
        t = SyncASGITransport(self.gateway_app)
        self.transports.append(t)
        return t

    def federate(self, region: str) -> dict[str, Any]:
        return federate(self.backends[region].ctx, transport=self.transport())

    def gateway_jobs(self) -> dict[str, int]:
        return run_gateway_jobs(self.gateway, httpx.Client())

    def publish(self, region: str) -> Any:
        return publish(self.backends[region].ctx)

    def advance(self, seconds: float) -> None:
        self.now[0] += seconds

    def published_keys(self, backend: str, region: str) -> list[bytes]:
        """Key data of every hourly package `backend` published for `region` (with repeats)."""
        ctx = self.backends[backend].ctx
        out: list[bytes] = []
        days = {
            layout.day_of(h)
            for h in range(int(T0) // 3600 - 24 * 15, int(self.now[0]) // 3600 + 1, 24)
        }
        for day in sorted(days):
            for hour in layout.read_json(ctx.blobs, layout.hour_index(region, day)) or []:
                start = int(dt.datetime.fromisoformat(day + "T00:00+00:00").timestamp()) // 3600
                data = ctx.blobs.get(blob_name(layout.hourly_path(region, start + int(hour))))
                assert data is not None
                out.extend(k.key_data for k in read_export(data).keys)
        return out


def _backend(
    region: str,
    regions: list[str],
    data_dir: Path,
    database_url: str,
    now: list[float],
    **extra: Any,
) -> Server:
    for name in ("min_uploads_per_batch", "min_keys_to_publish", "min_uploads_to_publish_checkins"):
        extra.setdefault(name, 1)
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        regions=regions,
        federation_gateway_url=GATEWAY_URL,
        federation_dir=data_dir / "member",
        federation_identity_headers=True,
        **extra,
    )
    app = create_app(settings, clock=lambda: now[0])
    ctx = app.state.ctx
    with ctx.sessions.begin() as session:
        lab = create_api_key(session, ctx, kind="lab", label="lab")
        hotline = create_api_key(session, ctx, kind="hotline", label="hotline")
    return Server(app, ctx, asgi_client(app), now, lab, hotline)


@pytest.fixture
def make_federation(database_url: str, tmp_path: Path) -> Iterator[Any]:
    made: list[Federation] = []

    def build(**extra: Any) -> Federation:
        now = [float(T0)]
        when = dt.datetime.fromtimestamp(T0, dt.UTC)
        gw_settings = GatewaySettings(
            data_dir=tmp_path / "gateway", database_url=f"sqlite:///{tmp_path / 'gateway.db'}"
        )
        anchor = init_anchor(gw_settings.resolved_anchor.parent, now=when)
        gw_app = create_gateway_app(gw_settings, clock=lambda: now[0])
        gw: GatewayContext = gw_app.state.ctx
        backends = {
            # AA publishes its own packages, a BB package for its travellers, and EUR; its
            # database is the parametrised one (SQLite or PostgreSQL).
            "AA": _backend(
                "AA",
                ["AA", "BB"],
                tmp_path / "aa",
                database_url,
                now,
                federation_eur_package="EUR",
                **extra,
            ),
            "BB": _backend(
                "BB", ["BB"], tmp_path / "bb", f"sqlite:///{tmp_path / 'bb.db'}", now, **extra
            ),
        }
        for region, server in backends.items():
            assert server.ctx.settings.federation_dir is not None
            onboard_member(
                gw, anchor, country=region, out_dir=server.ctx.settings.federation_dir, now=when
            )
        fed = Federation(now, gw, gw_app, backends, [])
        made.append(fed)
        return fed

    yield build
    for fed in made:
        for t in fed.transports:
            t.close()
        for server in fed.backends.values():
            server.client.close()
            server.ctx.engine.dispose()
        fed.gateway.engine.dispose()
