"""Full-size reliability run (issue 11): a real `tracewarn serve` attacked as in the issue.

    .venv/bin/python bench/reliability.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB

Phases, each against a fresh `tracewarn serve --workers 2` on loopback (the database's public
schema is dropped first, so give it a database of its own):

1. malformed: `--malformed` requests (mutated protobuf and JSON uploads, fuzzed verification
   bodies, fuzzed paths, the issue's exact repros); every status is counted, 5xx must be 0.
2. memory: 4 parallel 200 MiB bodies per JSON endpoint, without credentials, streamed over raw
   sockets; the peak RSS of the server's process tree is sampled and compared with its RSS at
   rest (the baseline of the same run).
3. rate limits: 120 TAN guesses in 13.6 s straddling a minute boundary, spread over the two
   workers, and 15 lab-result calls with a wrong API key.
4. kills: `--kills` rounds of uploads under load, each ended by kill -9 of the whole server
   (master and workers); afterwards every key of every acknowledged upload must be in the
   database (staged or moved to the published tables): keys lost = 0.

Prints the figures and ends with one JSON line. Not run in CI (tests/reliability is).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.reliability.test_requests_fuzz import _mutate, _random_json  # noqa: E402
from tracewarn.protocol.proto import submission_pb2  # noqa: E402
from tracewarn.server.models import DiagnosisKey, StagedUpload  # noqa: E402
from tracewarn.server.submission.staging import unpack_upload  # noqa: E402

SECRET = "reliability-run-secret-0123456789"
TOKEN = {"registrationToken": "00000000-0000-4000-8000-000000000000"}
JSON_PATHS = [
    "/version/v1/registrationToken",
    "/version/v1/testresult",
    "/version/v1/tan",
    "/version/v1/lab/results",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`tracewarn serve` in its own process group, so kill -9 reaches every worker."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.env, self.workers = env, workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(REPO / ".venv/bin/tracewarn"),
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(self.env["TRACEWARN_DATA_DIR"] + "/server.log", "ab"),  # noqa: SIM115
        )
        for _ in range(300):
            try:
                if httpx.get(self.url + "/version/v1/signing-keys", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def pids(self) -> list[int]:
        assert self.proc is not None
        out = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getpgid(int(entry)) == self.proc.pid:
                        out.append(int(entry))
                except ProcessLookupError:
                    pass
        return out

    def rss_kib(self) -> int:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total

    def kill9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill9()


def tracewarn(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(REPO / ".venv/bin/tracewarn"), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def payload(now: float, days: int = 14) -> submission_pb2.SubmissionPayload:
    today = int(now) // 600 // 144 * 144
    p = submission_pb2.SubmissionPayload()
    for day in range(days):
        p.keys.add(
            key_data=os.urandom(16),
            rolling_start_interval_number=today - 144 * day,
            rolling_period=144,
            transmission_risk_level=6,
        )
    p.visitedCountries.append("DE")
    return p


def get_tan(client: httpx.Client, lab_key: str) -> str:
    code = client.post(
        "/version/v1/lab/results", json={"result": "positive"}, headers={"X-API-Key": lab_key}
    ).json()["code"]
    token = client.post(
        "/version/v1/registrationToken",
        json={"keyType": "GUID", "key": hashlib.sha256(code.encode()).hexdigest()},
    ).json()["registrationToken"]
    return str(client.post("/version/v1/tan", json={"registrationToken": token}).json()["tan"])


def phase_malformed(server: Server, lab_key: str, count: int, statuses: Counter[int]) -> None:
    rng = random.Random(11)
    base = payload(time.time()).SerializeToString()
    fields = ["keys", "visitedCountries", "origin", "submissionType", "requestPadding", "x"]
    names = ["keyType", "key", "registrationToken", "result", "testType", "code"]
    alphabet = "abcXYZ019._-~%é"
    with httpx.Client(base_url=server.url, timeout=30) as client:
        tan = get_tan(client, lab_key)
        repros = [
            (
                "POST",
                "/version/v1/diagnosis-keys",
                base + b"\x1a\x02\xff\xfe",
                {"content-type": "application/x-protobuf", "cwa-authorization": "x"},
            ),
            (
                "POST",
                "/version/v1/diagnosis-keys",
                payload(time.time() - 40 * 86400).SerializeToString(),
                {"content-type": "application/x-protobuf", "cwa-authorization": tan},
            ),
            ("GET", "/version/v1/" + "a" * 256, b"", {}),
        ]
        for i in range(count):
            if i < len(repros):
                method, path, body, headers = repros[i]
            elif i % 4 == 0:
                method, path, headers = (
                    "POST",
                    "/version/v1/diagnosis-keys",
                    {"content-type": "application/x-protobuf", "cwa-authorization": "guess"},
                )
                body = _mutate(rng, base)
            elif i % 4 == 1:
                method, path = "POST", "/version/v1/diagnosis-keys"
                body = json.dumps(
                    {rng.choice(fields): _random_json(rng) for _ in range(3)}
                ).encode()
                headers = {"content-type": "application/json", "cwa-authorization": "guess"}
            elif i % 4 == 2:
                method, path = "POST", rng.choice(JSON_PATHS)
                body = json.dumps({rng.choice(names): _random_json(rng) for _ in range(3)}).encode()
                headers = {"content-type": "application/json", "X-API-Key": "guess"}
            else:
                method, body, headers = "GET", b"", {}
                path = "/version/" + "/".join(
                    "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 8, 64, 300])))
                    for _ in range(rng.randint(1, 5))
                )
            statuses[client.request(method, path, content=body, headers=headers).status_code] += 1
        # The TAN the all-old upload used still works.
        statuses[
            client.post(
                "/version/v1/diagnosis-keys",
                content=payload(time.time()).SerializeToString(),
                headers={"content-type": "application/x-protobuf", "cwa-authorization": tan},
            ).status_code
        ] += 1


def _flood(url: str, path: str, size: int, chunked: bool, out: list[tuple[int, int]]) -> None:
    host, port = url.removeprefix("http://").split(":")
    sent, status = 0, 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        head += (
            "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {size}\r\n\r\n"
        )
        sock.sendall(head.encode())
        chunk = b"[" * 65536
        try:
            while sent < size:
                piece = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") if chunked else chunk
                sock.sendall(piece)
                sent += len(chunk)
        except OSError:
            pass  # the server answered 413 and closed: exactly what should happen
        try:
            status = int(sock.recv(4096).split(b" ", 2)[1])
        except (OSError, IndexError, ValueError):
            status = -1
    out.append((status, sent))


def phase_memory(server: Server, statuses: Counter[int]) -> dict[str, Any]:
    time.sleep(1)
    rest = server.rss_kib()
    peak, stop = [rest], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak.append(server.rss_kib())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    results: list[tuple[int, int]] = []
    for path in JSON_PATHS:
        for chunked in (True, False):
            threads = [
                threading.Thread(
                    target=_flood, args=(server.url, path, 200 * 2**20, chunked, results)
                )
                for _ in range(4)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    stop.set()
    sampler.join()
    for status, _ in results:
        statuses[status] += 1
    return {
        "bodies": len(results),
        "body_mib_each": 200,
        "rss_at_rest_mib": round(rest / 1024, 1),
        "rss_peak_mib": round(max(peak) / 1024, 1),
        "peak_over_rest": round(max(peak) / max(rest, 1), 3),  # the same run's baseline
        "max_sent_before_cut_mib": round(max(s for _, s in results) / 2**20, 2),
    }


def phase_rate_limits(server: Server, statuses: Counter[int]) -> dict[str, Any]:
    boundary = (time.time() // 60 + 1) * 60
    time.sleep(max(0.0, boundary - 6.8 - time.time()))
    passed, start = 0, time.time()
    clients = [httpx.Client(base_url=server.url, timeout=30) for _ in range(2)]
    for i in range(120):
        # New connections land on either worker (SO_REUSEPORT): the limit must hold across both.
        r = clients[i % 2].post("/version/v1/tan", json=TOKEN, headers={"connection": "close"})
        statuses[r.status_code] += 1
        passed += r.status_code != 429
        time.sleep(max(0.0, start + (i + 1) * 13.6 / 120 - time.time()))
    lab = [
        clients[0]
        .post(
            "/version/v1/lab/results", json={"result": "positive"}, headers={"X-API-Key": "guess"}
        )
        .status_code
        for _ in range(15)
    ]
    for c in clients:
        c.close()
    for s in lab:
        statuses[s] += 1
    return {
        "guesses": 120,
        "seconds": round(time.time() - start, 1),
        "guesses_passed": passed,
        "lab_bad_key": dict(Counter(lab)),
    }


def phase_kills(
    env: dict[str, str], lab_key: str, kills: int, statuses: Counter[int]
) -> dict[str, Any]:
    acknowledged: list[bytes] = []
    lock = threading.Lock()
    rng = random.Random(13)
    survived = 0
    for _ in range(kills):
        server = Server(env)
        server.start()
        stop = threading.Event()

        def upload_loop(url: str, stop: threading.Event) -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                while not stop.is_set():
                    try:
                        tan = get_tan(client, lab_key)
                        p = payload(time.time())
                        r = client.post(
                            "/version/v1/diagnosis-keys",
                            content=p.SerializeToString(),
                            headers={
                                "content-type": "application/x-protobuf",
                                "cwa-authorization": tan,
                            },
                        )
                    except (httpx.HTTPError, KeyError, ValueError):
                        continue  # the server died mid-flow: nothing was acknowledged
                    with lock:
                        statuses[r.status_code] += 1
                        if r.status_code == 200:
                            acknowledged.extend(k.key_data for k in p.keys)

        threads = [threading.Thread(target=upload_loop, args=(server.url, stop)) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(2.0, 5.0))
        server.kill9()
        survived += 1
        stop.set()
        for t in threads:
            t.join()
    # Restart once more (migrations and start-up after the last kill), then count.
    server = Server(env)
    server.start()
    server.stop()
    engine = sa.create_engine(env["TRACEWARN_DATABASE_URL"])
    with engine.connect() as conn:
        stored = {bytes(k) for (k,) in conn.execute(sa.select(DiagnosisKey.key_data))}
        for (blob,) in conn.execute(sa.select(StagedUpload.payload)):
            stored.update(k.key_data for k in unpack_upload(bytes(blob)).keys)
    engine.dispose()
    lost = sum(1 for k in acknowledged if k not in stored)
    return {
        "kills": kills,
        "kills_survived": survived,
        "acknowledged_uploads": len(acknowledged) // 14,
        "acknowledged_keys": len(acknowledged),
        "keys_lost": lost,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", default="/tmp/tracewarn-reliability")
    parser.add_argument("--malformed", type=int, default=7015)
    parser.add_argument("--kills", type=int, default=10)
    args = parser.parse_args()

    engine = sa.create_engine(args.database_url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TRACEWARN_")}
    env = {
        **base_env,
        "TRACEWARN_DATABASE_URL": args.database_url,
        "TRACEWARN_DATA_DIR": str(data),
        "TRACEWARN_SERVER_SECRET": SECRET,
        "TRACEWARN_PUBLISH_INTERVAL_SECONDS": "0",
    }
    open_env = {
        **env,
        "TRACEWARN_RATE_LIMIT_PER_CLIENT": "1000000000",
        "TRACEWARN_RATE_LIMIT_GLOBAL": "1000000000",
        "TRACEWARN_RATE_LIMIT_FAILURES_PER_CLIENT": "1000000000",
    }
    tracewarn(env, "server", "migrate")
    lab_key = tracewarn(env, "server", "create-api-key", "--kind", "lab", "--label", "reliability")
    lab_key = lab_key.split()[-1]

    statuses: Counter[int] = Counter()
    figures: dict[str, Any] = {}
    started = time.time()
    server = Server(open_env)
    server.start()
    try:
        t = time.time()
        phase_malformed(server, lab_key, args.malformed, statuses)
        figures["malformed"] = {
            "requests": args.malformed + 1,
            "seconds": round(time.time() - t, 1),
        }
        figures["memory"] = phase_memory(server, statuses)
    finally:
        server.stop()
    # A fresh deployment's counters: phases 1-2 ran with the limits lifted from the same address.
    engine = sa.create_engine(args.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM rate_limit_hit"))
    engine.dispose()
    server = Server(env)
    server.start()
    try:
        figures["rate_limits"] = phase_rate_limits(server, statuses)
    finally:
        server.stop()
    figures["kills"] = phase_kills(open_env, lab_key, args.kills, statuses)
    figures["statuses"] = {str(k): v for k, v in sorted(statuses.items())}
    figures["requests_sent"] = sum(statuses.values())
    figures["server_errors_5xx"] = sum(v for k, v in statuses.items() if k >= 500)
    log = (data / "server.log").read_text(errors="replace")
    figures["log_lines"] = len(log.splitlines())
    figures["tracebacks_in_log"] = log.count("Traceback")
    figures["database"] = engine.dialect.name
    figures["seconds"] = round(time.time() - started, 1)
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps({"bench": "reliability", **figures}))


if __name__ == "__main__":
    main()
