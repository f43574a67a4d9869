"""Fixtures for the backend: an app on SQLite and PostgreSQL with a settable clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tracewarn.protocol.proto import submission_pb2
from tracewarn.server import Settings, create_app
from tracewarn.server.context import ServerContext
from tracewarn.server.testing import asgi_client
from tracewarn.server.verification.service import create_api_key

# 2026-11-27 10:20 UTC: a fixed start so hour and day boundaries are known.
T0 = int(dt.datetime(2026, 11, 27, 10, 20, tzinfo=dt.UTC).timestamp())


@dataclass
class Server:
    app: Any
    ctx: ServerContext
    client: httpx.Client
    now: list[float]
    lab_key: str
    hotline_key: str

    def advance(self, seconds: float) -> None:
        self.now[0] += seconds

    def code(self, result: str = "positive") -> str:
        r = self.client.post(
            "/version/v1/lab/results", json={"result": result}, headers={"X-API-Key": self.lab_key}
        )
        assert r.status_code == 201, r.text
        return str(r.json()["code"])

    def register_code(self, code: str) -> httpx.Response:
        return self.client.post(
            "/version/v1/registrationToken",
            json={"keyType": "GUID", "key": hashlib.sha256(code.encode()).hexdigest()},
        )

    def tan(self, result: str = "positive") -> str:
        token = self.register_code(self.code(result)).json()["registrationToken"]
        r = self.client.post("/version/v1/tan", json={"registrationToken": token})
        assert r.status_code == 201, r.text
        return str(r.json()["tan"])

    def upload(
        self,
        payload: submission_pb2.SubmissionPayload,
        tan: str,
        *,
        fake: bool = False,
        path: str = "/version/v1/diagnosis-keys",
    ) -> httpx.Response:
        headers = {"content-type": "application/x-protobuf", "cwa-authorization": tan}
        if fake:
            headers["cwa-fake"] = "1"
        return self.client.post(path, content=payload.SerializeToString(), headers=headers)


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    # Tests upload one or two cases: publish them without the production thresholds unless a
    # test asks for them (tests/privacy and test_publication run with the defaults).
    for name in ("min_uploads_per_batch", "min_keys_to_publish", "min_uploads_to_publish_checkins"):
        overrides.setdefault(name, 1)
    return Settings(data_dir=data_dir, database_url=database_url, **overrides)


@pytest.fixture
def make_server(database_url: str, tmp_path: Path) -> Iterator[Any]:
    clients: list[httpx.Client] = []
    servers: list[Server] = []

    def build(**overrides: Any) -> Server:
        now = [float(T0)]
        app = create_app(
            make_settings(database_url, tmp_path / "data", **overrides), clock=lambda: now[0]
        )
        ctx: ServerContext = app.state.ctx
        with ctx.sessions.begin() as session:
            lab = create_api_key(session, ctx, kind="lab", label="test lab")
            hotline = create_api_key(session, ctx, kind="hotline", label="test hotline")
        client = asgi_client(app)
        clients.append(client)
        servers.append(Server(app, ctx, client, now, lab, hotline))
        return servers[-1]

    yield build
    for client in clients:
        client.close()
    for srv in servers:
        srv.ctx.engine.dispose()


@pytest.fixture
def server(make_server: Any) -> Server:
    srv: Server = make_server()
    return srv


def payload_with_keys(
    now: float, count: int = 14, *, trl: int = 6
) -> submission_pb2.SubmissionPayload:
    """Keys for the last `count` days, today's key still valid, as a phone uploads them."""
    today = int(now) // 600 // 144 * 144
    payload = submission_pb2.SubmissionPayload()
    for day in range(count):
        key = payload.keys.add()
        key.key_data = os.urandom(16)
        key.rolling_start_interval_number = today - 144 * day
        key.rolling_period = 144
        key.transmission_risk_level = trl
    payload.visitedCountries.append("DE")
    return payload
