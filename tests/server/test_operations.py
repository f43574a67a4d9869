"""Operating the server: /healthz, no outside requests from /docs, API key listing and revoking,
`serve`'s flags, start-up line and port-in-use error."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.cli._run import run_main
from tracewarn.server import Settings, create_app
from tracewarn.server.testing import asgi_client


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("TRACEWARN_DATA_DIR", str(data))
    monkeypatch.setenv("TRACEWARN_SERVER_SECRET", "ops-test-secret-0123456789")
    monkeypatch.delenv("TRACEWARN_DATABASE_URL", raising=False)
    return data


def _cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = run_main(monkeypatch, *args)
    out, err = capsys.readouterr()
    return code, out, err


def test_healthz_reports_database_signing_keys_and_publish_age(
    database_url: str, tmp_path: Path
) -> None:
    from tracewarn.server.distribution.publish import publish
    from tracewarn.server.distribution.signing import create_signing_key

    now = [1_800_000_000.0]
    app = create_app(
        Settings(database_url=database_url, data_dir=tmp_path, regions=["DE", "AT"]),
        clock=lambda: now[0],
    )
    ctx = app.state.ctx
    with asgi_client(app) as client:
        first = client.get("/healthz")
        assert first.status_code == 503
        assert first.json() == {
            "status": "fail",
            "database": "ok",
            "signingKeys": {"DE": False, "AT": False},
            "lastPublish": None,
        }
        with ctx.sessions.begin() as session:
            create_signing_key(session, ctx, region="DE")
        assert client.get("/healthz").json()["signingKeys"] == {"DE": True, "AT": False}
        with ctx.sessions.begin() as session:
            create_signing_key(session, ctx, region="AT")
        publish(ctx)  # records the run
        now[0] += 90
        healthy = client.get("/healthz")
        assert healthy.status_code == 200 and healthy.json()["status"] == "ok"
        assert healthy.json()["lastPublish"] == {"ranAt": 1_800_000_000, "ageSeconds": 90}

        # The database going away is a 503 naming it, never a 500.
        good = ctx.engine
        ctx.engine = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
        try:
            down = client.get("/healthz")
        finally:
            ctx.engine.dispose()
            ctx.engine = good
        assert down.status_code == 503 and down.json()["database"].startswith("unreachable")
    ctx.engine.dispose()


def test_no_page_loads_anything_from_outside(database_url: str, tmp_path: Path) -> None:
    app = create_app(Settings(database_url=database_url, data_dir=tmp_path))
    with asgi_client(app) as client:
        # Swagger UI and ReDoc pull scripts, styles and a favicon from public CDNs: not served.
        for page in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            assert client.get(page).status_code == 404, page
        document = client.get("/openapi.json")
        assert document.status_code == 200 and "/healthz" in document.json()["paths"]
        # Every page the app serves (the portal's too) loads only from its own site.
        pages = [
            r.path for r in app.routes if "GET" in getattr(r, "methods", ()) and "{" not in r.path
        ]
        for path in pages:
            response = client.get(path)
            if "html" not in response.headers.get("content-type", ""):
                continue
            for attribute in ("src=", "href="):
                for tail in response.text.split(attribute)[1:]:
                    target = tail[1:].split(tail[0])[0] if tail[:1] in "\"'" else tail
                    assert not target.startswith(("http:", "https:", "//")), (path, target)
    app.state.ctx.engine.dispose()


def test_api_keys_list_and_revoke_by_label_or_prefix(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    made = []
    for label in ("Lab A", "Hotline B"):
        kind = "lab" if label.startswith("Lab") else "hotline"
        code, out, _ = _cli(monkeypatch, capsys, "server", "create-api-key", "--kind", kind,
                            "--label", label, "--json")  # fmt: skip
        assert code == 0
        made.append(json.loads(out))
    assert made[0]["key"].startswith(made[0]["prefix"]) and len(made[0]["prefix"]) == 9

    code, out, _ = _cli(monkeypatch, capsys, "server", "list-api-keys", "--json")
    listed = json.loads(out)
    assert [set(r) for r in listed] == [{"label", "kind", "created", "prefix", "revoked"}] * 2
    assert [(r["label"], r["prefix"], r["revoked"]) for r in listed] == [
        ("Lab A", made[0]["prefix"], False),
        ("Hotline B", made[1]["prefix"], False),
    ]
    assert made[0]["key"] not in out and made[1]["key"] not in out
    code, text, _ = _cli(monkeypatch, capsys, "server", "list-api-keys")
    assert code == 0 and "Lab A" in text and made[0]["key"] not in text

    code, out, _ = _cli(
        monkeypatch, capsys, "server", "revoke-api-key", "--label", "Lab A", "--json"
    )
    assert code == 0 and json.loads(out) == {
        "revoked": True,
        "label": "Lab A",
        "prefix": made[0]["prefix"],
    }
    prefix = made[1]["prefix"]
    assert _cli(monkeypatch, capsys, "server", "revoke-api-key", "--prefix", prefix)[0] == 0
    states = json.loads(_cli(monkeypatch, capsys, "server", "list-api-keys", "--json")[1])
    assert [r["revoked"] for r in states] == [True, True]
    code, _, err = _cli(monkeypatch, capsys, "server", "revoke-api-key", "--label", "Lab A")
    assert code == 2 and "no active API key matches --label" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["server", "create-api-key", "--kind", "lab", "--label", "  "], "--label must say who"),
        (["server", "signing-key", "create", "--region", "XX"], "region 'XX' is not configured"),
        (["server", "signing-key", "retire", "v1", "--region", "FR"], "region 'FR' is not"),
        (["server", "revoke-api-key"], "exactly one of KEY, --label or --prefix"),
        (["server", "revoke-api-key", "--prefix", "tw"], "at least 4 characters"),
    ],
)
def test_refused_admin_input(
    args: list[str],
    message: str,
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = _cli(monkeypatch, capsys, *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err


def test_signing_key_retire_json(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        assert _cli(monkeypatch, capsys, "server", "signing-key", "create")[0] == 0
    code, out, _ = _cli(monkeypatch, capsys, "server", "signing-key", "retire", "v1", "--json")
    assert code == 0 and json.loads(out) == {"retired": True, "region": "DE", "keyVersion": "v1"}


def test_serve_port_in_use_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRACEWARN_SERVER_SECRET", "ops-test-secret-0123456789")
    _restore_serve_environment(monkeypatch)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, out, err = _cli(monkeypatch, capsys, "serve", "--port", str(port),
                              "--data-dir", str(tmp_path / "d"))  # fmt: skip
    assert code == 2 and out == ""
    assert err == (
        f"tracewarn: error: port {port} on 127.0.0.1 is in use; stop what listens there or "
        "choose another with --port\n"
    )
    assert (tmp_path / "d").is_dir()  # --data-dir was used


def test_serve_flags_reach_the_workers_and_the_start_line_hides_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    from tracewarn.server import serve as serve_module

    seen: dict[str, Any] = {}

    def fake_run(options: dict[str, Any], *, announce: Any) -> None:
        seen["options"] = options
        seen["env"] = {
            k: os.environ.get(k) for k in ("TRACEWARN_DATA_DIR", "TRACEWARN_DATABASE_URL")
        }
        announce(4321)

    monkeypatch.setenv("TRACEWARN_SERVER_SECRET", "ops-test-secret-0123456789")
    _restore_serve_environment(monkeypatch)
    monkeypatch.setattr(serve_module, "run", fake_run)
    monkeypatch.setattr("tracewarn.commands.server._context", lambda: _Disposable())
    url = "postgresql+psycopg://admin:s3cret@db.internal:5432/tw?password=s3cret"
    code, out, _ = _cli(monkeypatch, capsys, "serve", "--data-dir", str(tmp_path / "d"),
                        "--database-url", url, "--workers", "3")  # fmt: skip
    assert code == 0
    assert seen["env"] == {"TRACEWARN_DATA_DIR": str(tmp_path / "d"), "TRACEWARN_DATABASE_URL": url}
    assert out == (
        "tracewarn serve: http://127.0.0.1:4321  database "
        f"postgresql+psycopg://db.internal:5432/tw  data dir {tmp_path / 'd'}  workers 3\n"
    )
    assert "s3cret" not in out and "admin" not in out


def _restore_serve_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # `serve` puts its flags into the environment for its workers; undo that after the test.
    for name in ("TRACEWARN_DATA_DIR", "TRACEWARN_DATABASE_URL"):
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)


class _Disposable:
    class engine:  # noqa: N801 - stands in for ServerContext.engine
        @staticmethod
        def dispose() -> None:
            return None


def test_migrate_json_names_the_head_revision(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tracewarn.server.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    code, out, _ = _cli(monkeypatch, capsys, "server", "migrate", "--json")
    assert code == 0 and json.loads(out) == {"revision": head}
    code, out, _ = _cli(monkeypatch, capsys, "server", "migrate")
    assert out == f"database is at the latest schema (revision {head})\n"
