"""Out-of-process tests: a publisher killed with SIGKILL, and a real `tracewarn serve`.

Both run the installed CLI in a subprocess with the real clock, bounded in time and retries.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tracewarn.protocol.gaen import load_public_key, read_export, verify_export
from tracewarn.protocol.presence.warning import decode_trace_warning_package
from tracewarn.server import FilesystemBlobStore, Settings, build_context
from tracewarn.server.distribution import layout
from tracewarn.server.distribution.routes import blob_name
from tracewarn.server.models import CheckInReport, DiagnosisKey, PublicationState
from tracewarn.server.submission.service import insert_keys

pytestmark = pytest.mark.slow
SECRET = "subprocess-test-secret-0123456789"
CLI = [sys.executable, "-c", "from tracewarn.cli import main; main()"]


def _env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEWARN_")}
    env.update(
        TRACEWARN_DATABASE_URL=database_url,
        TRACEWARN_DATA_DIR=str(data_dir),
        TRACEWARN_SERVER_SECRET=SECRET,
        # Every seeded hour is published, so every accepted key can be looked for.
        TRACEWARN_MIN_KEYS_TO_PUBLISH="1",
        TRACEWARN_MIN_UPLOADS_PER_BATCH="1",
        TRACEWARN_MIN_UPLOADS_TO_PUBLISH_CHECKINS="1",
        **extra,
    )
    return env


def _seed(database_url: str, data_dir: Path) -> set[bytes]:
    """~1,000 accepted keys spread over the last 60 hours, plus check-in reports."""
    ctx = build_context(
        Settings(database_url=database_url, data_dir=data_dir, server_secret=SECRET)
    )
    rng = random.Random(7)
    hour = int(time.time()) // 3600
    rows = []
    for h in range(hour - 60, hour):
        for _ in range(rng.randint(0, 30)):
            rows.append(
                {
                    "key_data": rng.randbytes(16),
                    "submission_type": 0,
                    "rolling_start_interval_number": (h * 6) // 144 * 144 - 144,
                    "rolling_period": 144,
                    "transmission_risk_level": rng.randint(3, 8),
                    "release_hour": h,
                    "package_hour": None,
                    "consent_to_federation": False,
                    "origin_country": "DE",
                    "visited_countries": "DE",
                    "is_padding": False,
                }
            )
    with ctx.sessions.begin() as session:
        insert_keys(session, rows)
        for h in range(hour - 30, hour, 3):
            session.add(
                CheckInReport(
                    location_id_hash=rng.randbytes(32),
                    iv=rng.randbytes(16),
                    encrypted_check_in_record=rng.randbytes(16),
                    mac=rng.randbytes(32),
                    region="DE",
                    release_hour=h,
                    package_hour=None,
                    id=rng.randbytes(16),
                )
            )
        # As the batch move would: these reports came from 10 uploads.
        session.add(PublicationState(slot="pending_checkin_uploads", value=10))
    ctx.engine.dispose()
    return {r["key_data"] for r in rows}  # type: ignore[misc]


def _public_keys(database_url: str) -> dict[tuple[str, str], object]:
    from tracewarn.server.models import SigningKey

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(SigningKey.key_id, SigningKey.key_version, SigningKey.public_key_pem)
        ).all()
    engine.dispose()
    return {(r[0], r[1]): load_public_key(r[2].encode()) for r in rows}


def _check_consistent(
    store: FilesystemBlobStore, pubs: dict[tuple[str, str], object]
) -> set[bytes]:
    """Every index names complete, verifying packages; returns the keys of all hourly packages."""
    found: set[bytes] = set()
    days = layout.read_json(store, layout.date_index("DE")) or []
    for day in days:
        data = store.get(blob_name(layout.daily_path("DE", day)))
        assert data is not None, f"date index names missing {day}"
        verify_export(data, pubs)  # type: ignore[arg-type]
    for name in store.list("version/v1/diagnosis-keys/country/DE/date/"):
        if name.endswith("/hour/index"):
            day = name.split("/")[-3]
            for hour in layout.read_json(store, layout.hour_index("DE", day)):
                data = store.get(blob_name(f"{layout.hour_index('DE', day)}/{hour}"))
                assert data is not None, f"hour index names missing {day}/{hour}"
                found |= {k.key_data for k in verify_export(data, pubs).export.keys}  # type: ignore[arg-type]
    twp = layout.read_json(store, layout.twp_index("DE"))
    if twp:
        for hour in range(twp["oldest"], twp["latest"] + 1):
            data = store.get(blob_name(layout.twp_path("DE", hour)))
            assert data is not None, f"twp index names missing hour {hour}"
            import io
            import zipfile

            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                decode_trace_warning_package(archive.read("export.bin"))
    return found


def test_publish_killed_at_random_points_leaves_no_partial_package_and_loses_no_key(
    database_url: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    accepted = _seed(database_url, data_dir)
    store = FilesystemBlobStore(data_dir / "cdn")
    env = _env(database_url, data_dir)
    rng = random.Random(2026)
    kills = 0
    for _ in range(8):
        proc = subprocess.Popen(
            [*CLI, "publish"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, 3.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        pubs = _public_keys(database_url)
        if pubs:
            _check_consistent(store, pubs)
    assert kills >= 1, "the publisher always finished before the kill; the test proved nothing"
    done = subprocess.run([*CLI, "publish"], env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    found = _check_consistent(store, _public_keys(database_url))
    assert accepted <= found, f"{len(accepted - found)} accepted keys missing"
    # every complete day's package holds that day's keys too
    daily: set[bytes] = set()
    for day in layout.read_json(store, layout.date_index("DE")):
        daily |= {
            k.key_data
            for k in read_export(store.get(blob_name(layout.daily_path("DE", day))) or b"").keys
        }
    hour = int(time.time()) // 3600
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        complete_days = {
            r[0]
            for r in conn.execute(
                sa.select(DiagnosisKey.key_data).where(
                    DiagnosisKey.is_padding.is_(False),
                    DiagnosisKey.package_hour < hour - hour % 24,
                )
            )
        }
    engine.dispose()
    assert complete_days <= daily
    assert not list((data_dir / "cdn").rglob(".tmp-*")), "the final run removes temporaries"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_real_server_logs_nothing_about_the_client(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = _free_port()
    env = _env(
        f"sqlite:///{data_dir / 'db.sqlite'}", data_dir, TRACEWARN_PUBLISH_INTERVAL_SECONDS="0"
    )
    key = (
        subprocess.run(
            [*CLI, "server", "create-api-key", "--kind", "lab", "--label", "t"],
            env=env,
            capture_output=True,
            timeout=60,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    proc = subprocess.Popen(
        [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    agent = "privacy-probe-agent/9.9"
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"User-Agent": agent}, timeout=5
        ) as client:
            for _ in range(100):
                try:
                    if client.get("/openapi.json").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            health = client.get("/healthz")
            assert health.json()["database"] == "ok", health.text
            import hashlib

            code = client.post(
                "/version/v1/lab/results", json={"result": "positive"}, headers={"X-API-Key": key}
            ).json()["code"]
            token = client.post(
                "/version/v1/registrationToken",
                json={"keyType": "GUID", "key": hashlib.sha256(code.encode()).hexdigest()},
            ).json()["registrationToken"]
            tan = client.post("/version/v1/tan", json={"registrationToken": token}).json()["tan"]
            from .conftest import payload_with_keys

            r = client.post(
                "/version/v1/diagnosis-keys",
                content=payload_with_keys(time.time()).SerializeToString(),
                headers={"content-type": "application/x-protobuf", "cwa-authorization": tan},
            )
            assert r.status_code == 200 and "server" not in r.headers
            assert client.post(
                "/version/v1/diagnosis-keys",
                content=b"bad",
                headers={"content-type": "application/x-protobuf", "cwa-authorization": tan},
            ).status_code in (400, 403)
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0].decode()
    # One start-up line: where it listens, the database (no credentials), data dir, workers.
    assert output.splitlines()[0] == (
        f"tracewarn serve: http://127.0.0.1:{port}  database sqlite:///{data_dir / 'db.sqlite'}  "
        f"data dir {data_dir}  workers 2"
    )
    assert "127.0.0.1:" not in output.replace(f"127.0.0.1:{port}", "") and agent not in output
    assert "POST" not in output and "diagnosis-keys" not in output, output[-500:]
