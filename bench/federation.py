"""Benchmark: 1,400,000 keys through federation, upload -> gateway -> download -> member publish.

Two member backends (DE sends, FR receives) and the gateway, each on its own SQLite database in
a temporary directory, talking HTTP in-process (`SyncASGITransport`, no sockets). Not timed:
generating the keys and storing them in DE as published keys with federation consent (what
1.4 M uploads would have left there). Timed, each as the real job runs it:

1. upload:  DE's upload job: select, shuffle, sign 350 batches of 4,000 (detached CMS over the
            canonical bytes), POST each; the gateway validates, verifies and stores every key.
2. batch:   the gateway's batching job forms download batches (<= 5,000 keys).
3. import:  FR's download job walks the batch chain, fetches each batch and its audit, verifies
            every upload's signature, validates every key and stores it (one transaction each).
4. publish: FR's publisher assigns the 1.4 M keys to a package, pads nothing (enough keys), and
            writes and signs its DE package for travellers.

Baseline, same run, same keys: only encoding and parsing the `DiagnosisKeyBatch` protobufs in
4,000-key chunks (the wire work any federation must do). Peak RSS is the process's
`ru_maxrss` after each stage (one process, so it only grows). The machine's 2 cores are shared
with other work; the load average before the run is printed. One JSON line ends the output.

    .venv/bin/python bench/federation.py [--keys 1400000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

T0 = int(dt.datetime(2026, 12, 1, 10, 20, tzinfo=dt.UTC).timestamp())
SEED = 20261204


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _keys(n: int) -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    today = T0 // 86400 * 144
    return {
        "key_data": rng.bytes(16 * n),
        "rsin": today - 144 * rng.integers(1, 14, n),
        "trl": rng.integers(3, 9, n),
    }


def _baseline(cols: dict[str, Any], n: int, chunk: int) -> float:
    from tracewarn.protocol.federation import FederationKey, encode_batch, parse_batch
    from tracewarn.server.submission.validation import dsos_from_trl

    data, rsin, trl = cols["key_data"], cols["rsin"].tolist(), cols["trl"].tolist()
    started = time.perf_counter()
    for start in range(0, n, chunk):
        keys = [
            FederationKey(
                data[16 * i : 16 * i + 16],
                rsin[i],
                144,
                trl[i],
                ("DE",),
                "DE",
                1,
                dsos_from_trl(trl[i]),
            )
            for i in range(start, min(n, start + chunk))
        ]
        assert len(parse_batch(encode_batch(keys))) == len(keys)
    return time.perf_counter() - started


def _seed_sender(ctx: Any, cols: dict[str, Any], n: int, hour: int) -> None:
    import sqlalchemy as sa

    from tracewarn.server.distribution import layout
    from tracewarn.server.models import DiagnosisKey

    data, rsin, trl = cols["key_data"], cols["rsin"].tolist(), cols["trl"].tolist()
    table = DiagnosisKey.__table__
    with ctx.engine.begin() as conn:
        for start in range(0, n, 50_000):
            conn.execute(
                sa.insert(table),
                [
                    {
                        "key_data": data[16 * i : 16 * i + 16],
                        "submission_type": 0,
                        "rolling_start_interval_number": rsin[i],
                        "rolling_period": 144,
                        "transmission_risk_level": trl[i],
                        "release_hour": hour,
                        "package_hour": hour,
                        "consent_to_federation": True,
                        "origin_country": "DE",
                        "visited_countries": "DE",
                        "is_padding": False,
                    }
                    for i in range(start, min(n, start + 50_000))
                ],
            )
    # The hour's package "exists": its hour index names it (the upload job checks this).
    layout.write_json(ctx.blobs, layout.hour_index("DE", layout.day_of(hour)), [hour % 24])


def run(n: int) -> dict[str, Any]:
    import sqlalchemy as sa

    from tracewarn.server.app import create_app
    from tracewarn.server.distribution.publish import publish
    from tracewarn.server.federation.client import GatewayClient, identity_headers
    from tracewarn.server.federation.inbound import import_batches
    from tracewarn.server.federation.member import load_credentials
    from tracewarn.server.federation.outbound import upload_pending_keys
    from tracewarn.server.gateway.admin import init_anchor, onboard_member
    from tracewarn.server.gateway.app import create_gateway_app
    from tracewarn.server.gateway.batching import make_download_batches
    from tracewarn.server.gateway.settings import GatewaySettings
    from tracewarn.server.models import DiagnosisKey
    from tracewarn.server.settings import Settings
    from tracewarn.server.testing import asgi_client

    now = [float(T0)]
    figures: dict[str, Any] = {"keys": n, "load_average_before": os.getloadavg()[0]}
    cols = _keys(n)
    figures["baseline_wire_s"] = round(_baseline(cols, n, 4000), 2)
    with tempfile.TemporaryDirectory(prefix="tracewarn-bench-fed-") as tmp:
        work = Path(tmp)
        when = dt.datetime.fromtimestamp(T0, dt.UTC)
        gw_settings = GatewaySettings(data_dir=work / "gateway")
        anchor = init_anchor(gw_settings.resolved_anchor.parent, now=when)
        gateway_app = create_gateway_app(gw_settings, clock=lambda: now[0])
        gateway = gateway_app.state.ctx
        backends = {}
        for code, regions in (("DE", ["DE"]), ("FR", ["FR", "DE"])):
            onboard_member(gateway, anchor, country=code, out_dir=work / code / "member", now=when)
            backends[code] = create_app(
                Settings(
                    data_dir=work / code,
                    regions=regions,
                    min_uploads_per_batch=1,
                    min_keys_to_publish=1,
                    # 1.4 M keys released in one hour make one package: one file, no split.
                    max_keys_per_file=max(n, 500_000),
                    federation_gateway_url="http://gateway",
                    federation_dir=work / code / "member",
                    federation_identity_headers=True,
                ),
                clock=lambda: now[0],
            ).state.ctx
        hour = T0 // 3600 - 1
        _seed_sender(backends["DE"], cols, n, hour)
        del cols
        figures["rss_after_setup_mb"] = round(_rss_mb())

        def client(code: str) -> tuple[GatewayClient, Any]:
            creds = load_credentials(work / code / "member")
            http = asgi_client(gateway_app, base_url="http://gateway")
            return GatewayClient(http, identity_headers(creds.auth_certificate)), creds

        stages: dict[str, float] = {}
        de, de_creds = client("DE")
        started = time.perf_counter()
        sent = upload_pending_keys(backends["DE"], de, de_creds)
        stages["upload"] = time.perf_counter() - started
        assert sent.keys_sent == n, sent
        figures["upload_batches"] = len(sent.batches)
        figures["rss_after_upload_mb"] = round(_rss_mb())

        started = time.perf_counter()
        tags = make_download_batches(gateway)
        stages["batch"] = time.perf_counter() - started
        figures["download_batches"] = len(tags)

        fr, fr_creds = client("FR")
        now[0] += 300
        started = time.perf_counter()
        imported = import_batches(backends["FR"], fr, fr_creds)
        stages["import"] = time.perf_counter() - started
        assert imported.keys_imported == n and imported.keys_rejected == 0, imported.failed
        figures["rss_after_import_mb"] = round(_rss_mb())

        now[0] += 3600
        started = time.perf_counter()
        published = publish(backends["FR"])
        stages["publish"] = time.perf_counter() - started
        figures["rss_after_publish_mb"] = round(_rss_mb())
        with backends["FR"].sessions() as session:
            in_package = session.scalar(
                sa.select(sa.func.count())
                .select_from(DiagnosisKey)
                .where(DiagnosisKey.package_hour.is_not(None), DiagnosisKey.origin_country == "DE")
            )
        assert in_package == n, in_package
        figures["packages_written"] = len(published.hourly) + len(published.daily)
        for ctx in (*backends.values(), gateway):
            ctx.engine.dispose()

    total = sum(stages.values())
    figures.update({f"{k}_s": round(v, 2) for k, v in stages.items()})
    figures.update({f"{k}_keys_per_s": round(n / v) for k, v in stages.items()})
    figures["total_s"] = round(total, 2)
    figures["keys_per_s"] = round(n / total)
    figures["ratio_to_wire_baseline"] = round(total / figures["baseline_wire_s"], 1)
    figures["peak_rss_mb"] = round(_rss_mb())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--keys", type=int, default=1_400_000)
    args = parser.parse_args()
    if not 4000 <= args.keys <= 5_000_000:
        sys.exit("--keys must be 4000..5000000")
    print(f"load average before: {os.getloadavg()} on {os.cpu_count()} cores (shared)")
    figures = run(args.keys)
    n = figures["keys"]
    for stage in ("upload", "batch", "import", "publish"):
        s = figures[f"{stage}_s"]
        print(f"{stage:8s} {s:8.2f} s  {n / s:10,.0f} keys/s")
    print(
        f"total    {figures['total_s']:8.2f} s  {figures['keys_per_s']:10,} keys/s  "
        f"({figures['ratio_to_wire_baseline']}x the wire-only baseline of "
        f"{figures['baseline_wire_s']} s); peak RSS {figures['peak_rss_mb']} MB"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
