"""The gateway's engine, sessions, clock and trust anchor; migrations run before it serves."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tracewarn.protocol.federation import load_certificate
from tracewarn.server.db import make_engine, make_sessionmaker, upgrade_database
from tracewarn.server.gateway.settings import GatewaySettings

__all__ = ["GatewayContext", "build_gateway_context", "upgrade_gateway"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


@dataclass
class GatewayContext:
    settings: GatewaySettings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], float]
    anchor: x509.Certificate

    def now(self) -> int:
        return int(self.clock())


def upgrade_gateway(engine: Engine, lock_dir: Path) -> None:
    """`alembic upgrade head` on the gateway's own chain (version table `gateway_alembic_version`)."""
    upgrade_database(engine, lock_dir, migrations_dir=MIGRATIONS_DIR, lock_name="gateway-migrate")


def build_gateway_context(
    settings: GatewaySettings | None = None, *, clock: Callable[[], float] | None = None
) -> GatewayContext:
    settings = settings or GatewaySettings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.resolved_anchor
    if not path.exists():
        raise FileNotFoundError(
            f"no trust anchor at {path}; run `tracewarn gateway init` or set "
            "TRACEWARN_GATEWAY_ANCHOR_CERTIFICATE"
        )
    engine = make_engine(settings.resolved_database_url)
    upgrade_gateway(engine, settings.data_dir)
    return GatewayContext(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        clock=clock or time.time,
        anchor=load_certificate(path.read_bytes()),
    )
