"""Load benchmark: `tracewarn serve` (2 workers, PostgreSQL) under N concurrent uploading clients.

Starts the real server on 127.0.0.1 in a subprocess, pre-issues TANs straight into the database
(the verification steps are not what is measured), then N asyncio clients each upload CWA
`SubmissionPayload`s (14 fresh keys, padded) with their own TAN for `--duration` seconds.
Baseline, measured in the same run against the same server: GET of the published country index
(no database work), so the ratio shows what a submission costs over a bare request.

    .venv/bin/python bench/server_load.py [--clients 32] [--duration 30] [--workers 2]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/tracewarn_bench]

Target (issue 6): >= 500 submissions/s, p99 < 100 ms, 0 errors. The client runs on the same
machine as the server, so on a small box the two compete for the cores; the report says so
(and gives the load average before the run). The clients are closed loops without think time:
32 of them keep a 2-core machine saturated, so their p99 is mostly queueing (Little's law);
`--clients 8` or `16` shows the per-upload latency at the same throughput.
The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

SECRET = "bench-server-secret-0123456789abcdef"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/tracewarn_bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fresh_database(url: str) -> None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).scalar():
                conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()


def _issue_tans(url: str, data_dir: Path, count: int) -> list[str]:
    from tracewarn.protocol.verification import make_uuid4
    from tracewarn.server import Settings, build_context
    from tracewarn.server.models import Tan

    ctx = build_context(Settings(database_url=url, data_dir=data_dir, server_secret=SECRET))
    now = int(time.time())
    tans = [make_uuid4(os.urandom(16)) for _ in range(count)]
    with ctx.sessions.begin() as session:
        session.execute(
            sa.insert(Tan),
            [
                {
                    "tan_hmac": ctx.box.mac("tan", t),
                    "kind": "submission",
                    "created_at": now,
                    "expires_at": now + 86400,
                }
                for t in tans
            ],
        )
    from tracewarn.server.distribution.publish import publish

    publish(ctx)  # writes the country index the baseline fetches
    ctx.engine.dispose()
    return tans


def _payload() -> bytes:
    from tracewarn.protocol.proto import submission_pb2

    today = int(time.time()) // 600 // 144 * 144
    payload = submission_pb2.SubmissionPayload(
        visitedCountries=["DE"], requestPadding=os.urandom(16)
    )
    for day in range(14):
        payload.keys.add(
            key_data=os.urandom(16),
            rolling_start_interval_number=today - 144 * day,
            rolling_period=144,
            transmission_risk_level=6,
        )
    return payload.SerializeToString()


def _request_bytes(
    host: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items()) + "\r\n"
    return head.encode() + body


def _upload_requests(host: str, tans: list[str]) -> list[bytes]:
    """One complete request per TAN, built before the timed window: each still carries its own
    TAN and 14 fresh random keys, but the generator no longer spends its CPU (which the server
    needs on this machine) on protobuf and string work while the clock runs."""
    return [
        _request_bytes(
            host,
            "POST",
            "/version/v1/diagnosis-keys",
            _payload(),
            {"Content-Type": "application/x-protobuf", "cwa-authorization": tan},
        )
        for tan in tans
    ]


class _Connection:
    """A minimal HTTP/1.1 keep-alive client: httpx's per-request CPU cost would make the load
    generator, not the server, the bottleneck on a 2-core machine."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        await self.writer.drain()
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(status_line.split()[1])


async def _run(
    host: str, port: int, clients: int, duration: float, uploads: list[bytes] | None
) -> tuple[list[float], int, int]:
    """`clients` connections send `uploads` (one each, popped) or, if None, the baseline GET."""
    latencies: list[float] = []
    errors = 0
    done = 0
    stop = time.perf_counter() + duration
    get = _request_bytes(f"{host}:{port}", "GET", "/version/v1/diagnosis-keys/country")

    async def worker(index: int) -> None:
        nonlocal errors, done
        # Each client from its own loopback address (127.0.0.2, .3, ...), as phones come from
        # distinct addresses: the per-client rate-limit rows are then distinct too.
        source = (f"127.0.0.{2 + index % 250}", 0)
        reader, writer = await asyncio.open_connection(host, port, local_addr=source)
        conn = _Connection(reader, writer)
        try:
            while time.perf_counter() < stop:
                if uploads is None:
                    raw = get
                elif uploads:
                    raw = uploads.pop()
                else:
                    return
                started = time.perf_counter()
                status = await conn.request(raw)
                latencies.append(time.perf_counter() - started)
                done += 1
                errors += status != 200
        finally:
            writer.close()

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return latencies, done, errors


def _tree_cpu_seconds(root: int) -> float:
    """utime + stime of `root` and its direct children (the uvicorn workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == root or int(fields[1]) == root:
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--baseline-duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--database-url", default=os.environ.get("TRACEWARN_BENCH_DATABASE_URL", DEFAULT_DB)
    )
    parser.add_argument("--tans", type=int, default=60_000)
    # The shared rate limiter costs one database transaction per request; `memory` isolates the
    # upload path itself (per-process limits, as with one worker).
    parser.add_argument("--rate-limit-backend", choices=["database", "memory"], default="database")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    data_dir = Path(tempfile.mkdtemp(prefix="tracewarn-bench-"))
    _fresh_database(args.database_url)
    print(
        f"issuing {args.tans} TANs into {sa.engine.make_url(args.database_url).render_as_string(hide_password=True)} ...",
        flush=True,
    )
    tans = _issue_tans(args.database_url, data_dir, args.tans)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEWARN_")}
    env.update(
        TRACEWARN_DATABASE_URL=args.database_url,
        TRACEWARN_DATA_DIR=str(data_dir),
        TRACEWARN_SERVER_SECRET=SECRET,
        TRACEWARN_PUBLISH_INTERVAL_SECONDS="0",
        TRACEWARN_RATE_LIMIT_PER_CLIENT=str(10**9),
        TRACEWARN_RATE_LIMIT_GLOBAL=str(10**9),
        TRACEWARN_RATE_LIMIT_BACKEND=args.rate_limit_backend,
    )
    cli = [
        sys.executable,
        "-c",
        "from tracewarn.cli import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
    ]
    server = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if (
                    httpx.get(base + "/version/v1/diagnosis-keys/country", timeout=1).status_code
                    == 200
                ):
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise SystemExit("server did not start")
        asyncio.run(
            _run("127.0.0.1", port, args.clients, 2.0, None)
        )  # warm-up: connections, imports, caches
        b_lat, b_done, b_err = asyncio.run(
            _run("127.0.0.1", port, args.clients, args.baseline_duration, None)
        )
        uploads = _upload_requests(f"127.0.0.1:{port}", tans)
        cpu_before = _tree_cpu_seconds(server.pid)
        client_cpu_before = time.process_time()
        s_lat, s_done, s_err = asyncio.run(
            _run("127.0.0.1", port, args.clients, args.duration, uploads)
        )
        server_cpu = _tree_cpu_seconds(server.pid) - cpu_before
        client_cpu = time.process_time() - client_cpu_before
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    engine = sa.create_engine(args.database_url)
    with engine.connect() as conn:
        # Uploads are durable as staging rows; the publisher moves them in batches later.
        stored = conn.execute(sa.text("SELECT count(*) FROM staged_upload")).scalar_one()
    engine.dispose()

    rate = s_done / args.duration
    base_rate = b_done / args.baseline_duration
    summary = {
        "clients": args.clients,
        "rate_limit_backend": args.rate_limit_backend,
        "workers": args.workers,
        "duration_s": args.duration,
        "cpus": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "submissions": s_done,
        "submissions_per_s": round(rate, 1),
        "p50_ms": round(_pct(s_lat, 0.50), 2),
        "p99_ms": round(_pct(s_lat, 0.99), 2),
        "errors": s_err,
        "uploads_staged": stored,
        "server_cpu_ms_per_submission": round(1000 * server_cpu / s_done, 2) if s_done else None,
        "client_cpu_ms_per_submission": round(1000 * client_cpu / s_done, 2) if s_done else None,
        "server_cpu_share_of_machine": round(
            server_cpu / (args.duration * (os.cpu_count() or 1)), 3
        ),
        "baseline_get_per_s": round(base_rate, 1),
        "baseline_p50_ms": round(_pct(b_lat, 0.50), 2),
        "baseline_p99_ms": round(_pct(b_lat, 0.99), 2),
        "baseline_errors": b_err,
        "ratio_submissions_vs_baseline": round(rate / base_rate, 3) if base_rate else None,
        "target_met": rate >= 500 and _pct(s_lat, 0.99) < 100 and s_err == 0,
    }
    print(
        f"submissions/s: {summary['submissions_per_s']}  p50 {summary['p50_ms']} ms  p99 {summary['p99_ms']} ms  errors {s_err}"
    )
    print(
        f"baseline GET/s: {summary['baseline_get_per_s']}  p50 {summary['baseline_p50_ms']} ms  (ratio {summary['ratio_submissions_vs_baseline']})"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
