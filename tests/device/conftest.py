"""A backend on SQLite in tmp_path, on a manual clock, reached in-process (no ports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tracewarn.device import ManualClock, SeededRandomness, VirtualDevice

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@dataclass
class Backend:
    app: Any
    client: httpx.Client
    clock: ManualClock
    lab_key: str
    tmp: Path

    def device(self, name: str) -> VirtualDevice:
        return VirtualDevice.open(
            self.tmp / "phones" / name, clock=self.clock, randomness=SeededRandomness(1, name)
        )

    def positive_code(self) -> str:
        response = self.client.post(
            "/version/v1/lab/results",
            json={"result": "positive"},
            headers={"X-API-Key": self.lab_key},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["code"])

    def publish(self) -> None:
        from tracewarn.server.distribution.publish import publish

        publish(self.app.state.ctx, now=int(self.clock.now().timestamp()))


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    from tracewarn.server.app import create_app
    from tracewarn.server.settings import Settings
    from tracewarn.server.testing import asgi_client
    from tracewarn.server.verification import service

    clock = ManualClock(START)
    settings = Settings(
        data_dir=tmp_path / "server",
        rate_limit_per_client=10**6,
        rate_limit_global=10**7,
        # One case per test: publish it without waiting for the production thresholds.
        min_uploads_per_batch=1,
        min_keys_to_publish=1,
        min_uploads_to_publish_checkins=1,
    )
    app = create_app(settings, clock=lambda: clock.now().timestamp())
    ctx = app.state.ctx
    with ctx.sessions.begin() as session:
        lab_key = service.create_api_key(session, ctx, kind="lab", label="test lab")
    with asgi_client(app) as client:
        yield Backend(app, client, clock, lab_key, tmp_path)
    ctx.engine.dispose()
