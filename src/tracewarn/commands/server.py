"""`tracewarn serve`, `tracewarn publish` and `tracewarn server ...` (admin helpers).

Heavy modules (fastapi, sqlalchemy, uvicorn) are imported inside the commands so that
`tracewarn --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tracewarn.commands._common import BadInput, print_json

if TYPE_CHECKING:
    from tracewarn.server.context import ServerContext

server_app = typer.Typer(help="Health-authority backend administration.", no_args_is_help=True)
signing_app = typer.Typer(help="Region signing keys (ECDSA P-256).", no_args_is_help=True)
server_app.add_typer(signing_app, name="signing-key")


def _context() -> ServerContext:
    # Settings and start-up errors (pydantic, ConfigError) reach `cli.main`, which names the
    # TRACEWARN_ variable to fix.
    from tracewarn.server.app import build_context
    from tracewarn.server.settings import Settings

    return build_context(Settings())


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default TRACEWARN_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port (default TRACEWARN_PORT or 8000)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=256, help="Worker processes (default TRACEWARN_WORKERS or 1)."),
    ] = None,
) -> None:
    """Run the backend (API, served packages, scheduled publish and cleanup)."""
    from tracewarn.server.serve import run, uvicorn_options
    from tracewarn.server.settings import Settings

    options = uvicorn_options(Settings(), host=host, port=port, workers=workers)
    # Create the data dir, secret and schema once before the workers race for them.
    _context().engine.dispose()
    run(options)


def publish() -> None:
    """Cut every complete hourly and daily package that is not yet published."""
    from tracewarn.server.distribution.publish import publish as run

    ctx = _context()
    report = run(ctx)
    print_json(
        {
            "skipped": report.skipped,
            "hourly": len(report.hourly),
            "daily": len(report.daily),
            "warnings": len(report.warnings),
            "paddingKeys": report.padding_keys,
        }
    )


@server_app.command("create-api-key")
def create_api_key(
    kind: Annotated[str, typer.Option(help="lab (reports results) or hotline (creates teleTANs).")],
    label: Annotated[str, typer.Option(help="Who gets the key, for the operator's records.")],
) -> None:
    """Create an API key and print it once; only its HMAC is stored."""
    from tracewarn.server.verification.service import create_api_key as create

    if kind not in ("lab", "hotline"):
        raise BadInput("--kind is lab or hotline")
    ctx = _context()
    with ctx.sessions.begin() as session:
        key = create(session, ctx, kind=kind, label=label)
    typer.echo(key)


@server_app.command("create-user")
def create_user(
    username: Annotated[str, typer.Argument(help="Login name (a-z 0-9 . _ -).")],
    role: Annotated[str, typer.Option(help="lab, hotline or admin.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a portal account (/portal); the password is stored only as an Argon2 hash."""
    from tracewarn.web.auth import create_user as create

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    ctx = _context()
    try:
        with ctx.sessions.begin() as session:
            create(session, ctx, username=username, password=password, role=role)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    typer.echo(f"created {role} user {username}")


@server_app.command("revoke-api-key")
def revoke_api_key(key: Annotated[str, typer.Argument(help="The API key to revoke.")]) -> None:
    """Revoke an API key."""
    import sqlalchemy as sa

    from tracewarn.server.models import ApiKey

    ctx = _context()
    with ctx.sessions.begin() as session:
        done = session.execute(
            sa.update(ApiKey)
            .where(ApiKey.key_hmac == ctx.box.mac("api-key", key))
            .values(revoked=True)
        ).rowcount  # type: ignore[attr-defined]
    if not done:
        raise BadInput("no such API key")
    typer.echo("revoked")


@signing_app.command("create")
def signing_create(
    region: Annotated[str | None, typer.Option(help="Region (default: the home region).")] = None,
    key_id: Annotated[
        str | None, typer.Option(help="verification_key_id, e.g. the MCC '262'.")
    ] = None,
    pem: Annotated[
        typer.FileBinaryRead | None,
        typer.Option(help="Import a P-256 private key (PEM) instead of generating one."),
    ] = None,
) -> None:
    """Add the next key version for a region (rotation: old versions keep signing until retired)."""
    from tracewarn.protocol.gaen import load_private_key
    from tracewarn.server.distribution.signing import create_signing_key

    ctx = _context()
    region = region or ctx.settings.home_region
    private = load_private_key(pem.read()) if pem is not None else None
    with ctx.sessions.begin() as session:
        row = create_signing_key(session, ctx, region=region, key_id=key_id, private_key=private)
        out = {
            "region": row.region,
            "keyId": row.key_id,
            "keyVersion": row.key_version,
            "publicKeyPem": row.public_key_pem,
        }
    print_json(out)


signing_app.command("rotate", help="Same as create: add a new version; retire the old one later.")(
    signing_create
)


@signing_app.command("retire")
def signing_retire(
    version: Annotated[str, typer.Argument(help="Key version to retire, e.g. v1.")],
    region: Annotated[str | None, typer.Option(help="Region (default: the home region).")] = None,
) -> None:
    """Stop signing with a key version (its public key stays listed, marked retired)."""
    from tracewarn.server.distribution.signing import retire_signing_key

    ctx = _context()
    try:
        with ctx.sessions.begin() as session:
            retire_signing_key(
                session, ctx, region=region or ctx.settings.home_region, key_version=version
            )
    except (LookupError, ValueError) as exc:
        raise BadInput(str(exc)) from None
    typer.echo("retired")


@signing_app.command("list")
def signing_list() -> None:
    """Print every region's public signing keys."""
    from tracewarn.server.distribution.signing import public_key_document

    ctx = _context()
    with ctx.sessions() as session:
        print_json(public_key_document(session))


@server_app.command("cleanup")
def cleanup() -> None:
    """Delete keys, reports, codes, tokens and packages older than the retention period."""
    from dataclasses import asdict

    from tracewarn.server.retention import cleanup as run

    print_json(asdict(run(_context())))


@server_app.command("federate")
def federate() -> None:
    """One federation round now: upload pending keys to the gateway, import new batches."""
    from tracewarn.server.federation.jobs import federate as run

    try:
        print_json(run(_context()))
    except (ValueError, OSError) as exc:
        raise BadInput(str(exc)) from None


@server_app.command("migrate")
def migrate() -> None:
    """Create or upgrade the database schema (alembic upgrade head)."""
    _context().engine.dispose()
    typer.echo("database is at the latest schema")


@server_app.command("openapi")
def openapi() -> None:
    """Print the OpenAPI document."""
    from tracewarn.server.app import create_app
    from tracewarn.server.settings import Settings

    sys.stdout.write(json.dumps(create_app(Settings()).openapi(), indent=2) + "\n")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("serve")(serve)
    app.command("publish")(publish)
    app.add_typer(server_app, name="server")
