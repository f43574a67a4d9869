"""One federation round for the backend: upload pending keys, then import new batches.

Run by the backend's scheduler after each publish when `federation_gateway_url` is set, and by
`tracewarn server federate`. One round at a time per database (the `federation` lock), so two
workers cannot upload the same keys twice.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import httpx

from tracewarn.server.context import ServerContext
from tracewarn.server.db import cross_process_lock
from tracewarn.server.federation.client import GatewayError
from tracewarn.server.federation.inbound import import_batches
from tracewarn.server.federation.member import gateway_client, load_credentials
from tracewarn.server.federation.outbound import upload_pending_keys

__all__ = ["federate"]


def federate(
    ctx: ServerContext, *, transport: httpx.BaseTransport | None = None, now: int | None = None
) -> dict[str, Any]:
    """Upload, then import; returns both reports (`skipped` when another round runs)."""
    s = ctx.settings
    if not s.federation_gateway_url or s.federation_dir is None:
        raise ValueError("set TRACEWARN_FEDERATION_GATEWAY_URL and TRACEWARN_FEDERATION_DIR")
    credentials = load_credentials(s.federation_dir)
    with cross_process_lock(ctx.engine, "federation", s.data_dir) as got:
        if not got:
            return {"skipped": True}
        out: dict[str, Any] = {"skipped": False}
        with gateway_client(s, credentials, transport=transport) as client:
            try:
                out["upload"] = asdict(upload_pending_keys(ctx, client, credentials, now=now))
            except GatewayError as exc:
                out["upload"] = {"error": str(exc)}
            try:
                out["import"] = asdict(import_batches(ctx, client, credentials, now=now))
            except GatewayError as exc:
                out["import"] = {"error": str(exc)}
        return out
