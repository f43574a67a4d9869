"""kill -9 in the middle of an import: no key is lost and none is published twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import Any

import sqlalchemy as sa

from tests.server.federation.conftest import Federation
from tests.server.federation.test_member import _member_client, _sign
from tracewarn.protocol.federation import FederationKey
from tracewarn.server.models import DiagnosisKey, FederationBatch

UPLOADS, PER_UPLOAD = 24, 40

_CHILD = r"""
import json, sys, time
import httpx
from tracewarn.server.app import build_context
from tracewarn.server.settings import Settings
from tracewarn.server.gateway.app import create_gateway_app
from tracewarn.server.gateway.settings import GatewaySettings
from tracewarn.server.testing import SyncASGITransport
from tracewarn.server.federation.jobs import federate

args = json.loads(sys.argv[1])
now = args["now"]
gateway = create_gateway_app(GatewaySettings(**args["gateway"]), clock=lambda: now)
inner = SyncASGITransport(gateway)

class Slow(httpx.BaseTransport):
    def handle_request(self, request):
        response = inner.handle_request(request)
        print(request.url.path, flush=True)
        time.sleep(0.01)
        return response

ctx = build_context(Settings(**args["backend"]), clock=lambda: now)
print(json.dumps(federate(ctx, transport=Slow())), flush=True)
"""


def _counts(fed: Federation) -> tuple[list[bytes], int]:
    with fed.backends["AA"].ctx.sessions() as s:
        keys = list(
            s.scalars(sa.select(DiagnosisKey.key_data).where(DiagnosisKey.origin_country == "BB"))
        )
        batches = int(s.scalar(sa.select(sa.func.count()).select_from(FederationBatch)) or 0)
    return keys, batches


def test_kill_during_import_loses_nothing_and_duplicates_nothing(make_federation: Any) -> None:
    fed: Federation = make_federation()
    fed.gateway.settings.max_download_batch_keys = PER_UPLOAD  # one upload per download batch
    today = int(fed.now[0]) // 86400 * 144
    client = _member_client(fed, "BB")
    expected: set[bytes] = set()
    for u in range(UPLOADS):
        keys = [
            FederationKey(
                bytes([u, i]) + os.urandom(14),
                today - 144 * (1 + i % 10),
                144,
                8,
                ("BB",),
                "BB",
                1,
                i % 4,
            )
            for i in range(PER_UPLOAD)
        ]
        expected |= {k.key_data for k in keys}
        assert client.upload(keys, tag=f"bb-{u}", signature=_sign(fed, "BB", keys)).status == 201
    assert fed.gateway_jobs()["batches"] == UPLOADS

    aa = fed.backends["AA"].ctx.settings
    gw = fed.gateway.settings
    args = {
        "now": fed.now[0],
        "gateway": {"data_dir": str(gw.data_dir), "database_url": gw.resolved_database_url},
        "backend": {
            "data_dir": str(aa.data_dir),
            "database_url": aa.resolved_database_url,
            "regions": aa.regions,
            "federation_gateway_url": aa.federation_gateway_url,
            "federation_dir": str(aa.federation_dir),
            "federation_identity_headers": True,
            "federation_eur_package": aa.federation_eur_package,
            "min_uploads_per_batch": 1,
            "min_keys_to_publish": 1,
        },
    }
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, json.dumps(args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    downloads = 0
    try:
        for line in child.stdout:  # bounded: the child makes 2 requests per batch, then exits
            downloads += line.startswith("/diagnosiskeys/download")
            if downloads == UPLOADS // 2:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    keys, batches = _counts(fed)
    assert 0 < batches < UPLOADS, "the kill must land in the middle of the import"
    # Every batch recorded as imported has all its keys; no key without its batch.
    assert len(keys) == batches * PER_UPLOAD

    out = fed.federate("AA")["import"]
    assert out["keys_rejected"] == 0 and len(out["batches"]) == UPLOADS - batches
    keys, batches = _counts(fed)
    assert batches == UPLOADS and sorted(keys) == sorted(expected)

    fed.advance(3600)
    fed.publish("AA")
    assert fed.federate("AA")["import"]["keys_imported"] == 0
    fed.advance(3600)
    fed.publish("AA")
    published = fed.published_keys("AA", "BB")
    assert all(published.count(k) == 1 for k in expected)
