"""`tracewarn gateway ...`: the federation gateway and its operator's tasks.

    tracewarn gateway init                       trust anchor in <data dir>/anchor
    tracewarn gateway member CC --out DIR        issue + register a member's certificates
    tracewarn gateway revoke THUMBPRINT          revoke a registered certificate
    tracewarn gateway jobs                       one round of batching, callbacks, retention
    tracewarn gateway serve [--host] [--port]    run the gateway (jobs every 5 minutes)

Settings come from `TRACEWARN_GATEWAY_*` (docs/federation.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tracewarn.commands._common import BadInput, print_json

if TYPE_CHECKING:
    from tracewarn.server.gateway.context import GatewayContext
    from tracewarn.server.gateway.settings import GatewaySettings

gateway_app = typer.Typer(
    help="Federation gateway (EFGS-compatible) and its administration.", no_args_is_help=True
)


def _settings() -> GatewaySettings:
    from pydantic import ValidationError

    from tracewarn.server.gateway.settings import GatewaySettings

    try:
        return GatewaySettings()
    except ValidationError as exc:
        raise BadInput(f"invalid TRACEWARN_GATEWAY_ settings: {exc.errors()[0]['msg']}") from None


def _context() -> GatewayContext:
    from tracewarn.server.gateway.context import build_gateway_context

    try:
        return build_gateway_context(_settings())
    except FileNotFoundError as exc:
        raise BadInput(str(exc)) from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@gateway_app.command("init")
def init() -> None:
    """Create the operator's trust anchor (anchor.pem, anchor.key) in the gateway data dir."""
    from tracewarn.server.gateway.admin import init_anchor

    settings = _settings()
    directory = settings.resolved_anchor.parent
    try:
        init_anchor(directory, now=_now())
    except FileExistsError as exc:
        raise BadInput(str(exc)) from None
    typer.echo(f"trust anchor written to {directory}")


@gateway_app.command("member")
def member(
    country: Annotated[str, typer.Argument(help="The member's country or region code, e.g. DE.")],
    out: Annotated[Path, typer.Option(help="Directory for the member's keys and certificates.")],
    days: Annotated[int, typer.Option(help="Validity of the certificates in days.")] = 365,
) -> None:
    """Issue and register AUTHENTICATION and SIGNING certificates for a member backend."""
    from tracewarn.protocol.federation import validate_country
    from tracewarn.server.gateway.admin import load_anchor, onboard_member

    validate_country(country)
    if not 1 <= days <= 3650:
        raise BadInput("--days must be 1..3650")
    ctx = _context()
    anchor_dir = ctx.settings.resolved_anchor.parent
    if not (anchor_dir / "anchor.key").exists():
        raise BadInput(f"the anchor's private key is not in {anchor_dir}")
    files = onboard_member(
        ctx, load_anchor(anchor_dir), country=country, out_dir=out, now=_now(), days=days
    )
    print_json({"country": country, "directory": str(files.directory)})


@gateway_app.command("revoke")
def revoke(
    thumbprint: Annotated[str, typer.Argument(help="SHA-256 hex of the certificate.")],
) -> None:
    """Revoke a registered certificate (uploads and signatures with it fail from now on)."""
    from tracewarn.server.gateway.certificates import revoke_certificate

    ctx = _context()
    with ctx.sessions.begin() as session:
        done = revoke_certificate(session, thumbprint.lower())
    if not done:
        raise BadInput("no certificate with that thumbprint")
    typer.echo("revoked")


@gateway_app.command("jobs")
def jobs() -> None:
    """Run one round of batching, callback delivery and retention now."""
    from tracewarn.server.gateway.app import run_gateway_jobs

    print_json(run_gateway_jobs(_context()))


@gateway_app.command("serve")
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address (default TRACEWARN_GATEWAY_HOST).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default TRACEWARN_GATEWAY_PORT, 8100).")
    ] = None,
) -> None:
    """Run the gateway behind a TLS terminator that requires client certificates."""
    import uvicorn

    settings = _settings()
    _context().engine.dispose()  # anchor present, schema migrated, before serving
    uvicorn.run(
        "tracewarn.server.gateway.app:served_gateway_app",
        factory=True,
        host=host or settings.host,
        port=port if port is not None else settings.port,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        log_level="warning",
    )


def register(app: typer.Typer) -> None:
    app.add_typer(gateway_app, name="gateway")
