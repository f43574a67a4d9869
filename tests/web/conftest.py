"""Fixtures for the web pages: an in-process app with staff accounts, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tracewarn.server import Settings, create_app
from tracewarn.server.context import ServerContext
from tracewarn.server.models import WebUser
from tracewarn.server.testing import asgi_client
from tracewarn.web.auth import hash_password

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class WebApp:
    app: Any
    ctx: ServerContext
    client: httpx.Client

    def csrf(self, html: str) -> str:
        found = _CSRF.search(html)
        assert found is not None, html[:500]
        return found.group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        page = self.client.get("/portal")
        return self.client.post(
            "/portal/login",
            data={"username": username, "password": password, "csrf": self.csrf(page.text)},
        )


_HASHES: list[str] = []


def _password_hash() -> str:
    # Argon2 is slow on purpose; one hash (with its own salt) serves every test database.
    if not _HASHES:
        _HASHES.append(hash_password(PASSWORD))
    return _HASHES[0]


@contextlib.contextmanager
def _web_app(database_url: str, tmp_path: Path) -> Iterator[WebApp]:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    app = create_app(settings)
    ctx: ServerContext = app.state.ctx
    with ctx.sessions.begin() as session:
        for role in ("lab", "hotline", "admin"):
            session.add(
                WebUser(
                    username=f"{role}1",
                    password_hash=_password_hash(),
                    role=role,
                    created_at=ctx.now(),
                    disabled=False,
                )
            )
    # https: the session cookie is Secure, so a client only sends it back over https.
    client = asgi_client(app, base_url="https://127.0.0.1")
    try:
        yield WebApp(app, ctx, client)
    finally:
        client.close()
        ctx.engine.dispose()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    """The app on SQLite (the pages do not depend on the database engine)."""
    with _web_app(f"sqlite:///{tmp_path / 'tracewarn.db'}", tmp_path) as app:
        yield app


@pytest.fixture
def web_db(database_url: str, tmp_path: Path) -> Iterator[WebApp]:
    """The app on SQLite and, when configured, PostgreSQL."""
    with _web_app(database_url, tmp_path) as app:
        yield app
