"""`tracewarn serve`, `tracewarn publish` and `tracewarn server ...` (admin helpers).

Heavy modules (fastapi, sqlalchemy, uvicorn) are imported inside the commands so that
`tracewarn --help` stays fast.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracewarn.commands._common import BadInput, parse_time, print_json

if TYPE_CHECKING:
    from tracewarn.server.context import ServerContext

server_app = typer.Typer(help="Health-authority backend administration.", no_args_is_help=True)
signing_app = typer.Typer(help="Region signing keys (ECDSA P-256).", no_args_is_help=True)
server_app.add_typer(signing_app, name="signing-key")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class KeyKind(StrEnum):
    lab = "lab"
    hotline = "hotline"


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
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Data directory: secret, SQLite database, packages (TRACEWARN_DATA_DIR)."
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="SQLAlchemy URL, e.g. postgresql+psycopg://... (TRACEWARN_DATABASE_URL).",
        ),
    ] = None,
) -> None:
    """Run the backend (API, served packages, scheduled publish and cleanup).

    Prints one line when it listens: URL, database (without credentials), data dir, workers.
    """
    from tracewarn.server.serve import PortInUse, run, uvicorn_options
    from tracewarn.server.settings import Settings

    # The workers read their settings from the environment, so the flags go there.
    if data_dir is not None:
        os.environ["TRACEWARN_DATA_DIR"] = str(data_dir)
    if database_url is not None:
        os.environ["TRACEWARN_DATABASE_URL"] = database_url
    settings = Settings()
    options = uvicorn_options(settings, host=host, port=port, workers=workers)

    def announce(bound_port: int) -> None:
        url = f"http://{_url_host(options['host'])}:{bound_port}"
        typer.echo(
            f"tracewarn serve: {url}  database {_safe_url(settings.resolved_database_url)}  "
            f"data dir {settings.data_dir}  workers {options['workers']}"
        )

    # Create the data dir, secret and schema once before the workers race for them.
    _context().engine.dispose()
    try:
        run(options, announce=announce)
    except PortInUse as exc:
        raise BadInput(str(exc)) from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _safe_url(url: str) -> str:
    """A database URL without user name and password (they may hold a secret)."""
    from sqlalchemy.engine import URL, make_url

    try:
        parsed = make_url(url)
    except Exception:  # an unparsable URL fails later with its own error; show no part of it
        return "(unparsable URL)"
    # Query parameters may carry a password too (`?password=`): left out with the user.
    bare = URL.create(
        parsed.drivername, host=parsed.host, port=parsed.port, database=parsed.database
    )
    return bare.render_as_string(hide_password=True)


def publish(
    now: Annotated[
        str | None,
        typer.Option(
            metavar="ISO-TIME",
            help="Publish as if the clock read this (ISO 8601; no offset = UTC), e.g. to release "
            "today's keys in a walkthrough; default: the real time.",
        ),
    ] = None,
) -> None:
    """Cut every complete hourly and daily package that is not yet published.

    The JSON says how many uploaded keys still wait and from when the next of them can be
    published: a key waits until it expired plus the expiry policy (2 h), and an hour's package
    is cut once that hour is over.
    """
    from tracewarn.server.distribution.publish import publish as run

    ctx = _context()
    moment = parse_time(now, "--now")
    report = run(ctx, now=moment)
    print_json(
        {
            "skipped": report.skipped,
            "hourly": len(report.hourly),
            "daily": len(report.daily),
            "warnings": len(report.warnings),
            "paddingKeys": report.padding_keys,
            "waiting": _waiting(ctx),
        }
    )


def _waiting(ctx: ServerContext) -> dict[str, Any]:
    """What is not published yet and the thresholds it waits for (docs/server.md, "Publish")."""
    import sqlalchemy as sa

    from tracewarn.server.models import DiagnosisKey, StagedUpload

    s = ctx.settings
    with ctx.sessions() as session:
        staged = session.scalar(sa.select(sa.func.count()).select_from(StagedUpload)) or 0
        pending, first = session.execute(
            sa.select(sa.func.count(), sa.func.min(DiagnosisKey.release_hour)).where(
                DiagnosisKey.package_hour.is_(None), DiagnosisKey.is_padding.is_(False)
            )
        ).one()
    return {
        # Uploads move into the published tables in batches of at least this many.
        "stagedUploads": int(staged),
        "minUploadsPerBatch": s.min_uploads_per_batch,
        # Moved keys wait for their release hour (expiry + expiry policy) to be over, and for
        # at least `minKeysToPublish` of them to be pending.
        "pendingKeys": int(pending or 0),
        "minKeysToPublish": s.min_keys_to_publish,
        "firstReleaseAfter": None if first is None else _iso((int(first) + 1) * 3600),
    }


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()


@server_app.command("create-api-key")
def create_api_key(
    kind: Annotated[KeyKind, typer.Option(help="lab (reports results) or hotline (teleTANs).")],
    label: Annotated[str, typer.Option(help="Who gets the key, for the operator's records.")],
    as_json: JsonOption = False,
) -> None:
    """Create an API key and print it once; only its HMAC and first characters are stored."""
    from tracewarn.server.verification.service import API_KEY_PREFIX_LENGTH
    from tracewarn.server.verification.service import create_api_key as create

    if not label.strip():
        raise BadInput("--label must say who holds the key (it is what list-api-keys shows)")
    ctx = _context()
    with ctx.sessions.begin() as session:
        key = create(session, ctx, kind=kind.value, label=label)
    if as_json:
        print_json(
            {"key": key, "kind": kind.value, "label": label.strip(),
             "prefix": key[:API_KEY_PREFIX_LENGTH]}
        )  # fmt: skip
    else:
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


@server_app.command("list-api-keys")
def list_api_keys(as_json: JsonOption = False) -> None:
    """List API keys: label, kind, created, prefix, revoked (never the key)."""
    import sqlalchemy as sa

    from tracewarn.server.models import ApiKey

    ctx = _context()
    with ctx.sessions() as session:
        rows: list[dict[str, Any]] = [
            {
                "label": row.label,
                "kind": row.kind,
                "created": _iso(row.created_at),
                "prefix": row.key_prefix,
                "revoked": row.revoked,
            }
            for row in session.scalars(sa.select(ApiKey).order_by(ApiKey.id))
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no API keys; create one with `tracewarn server create-api-key`")
        return
    width = max(len(r["label"]) for r in rows)
    for r in rows:
        state = "revoked" if r["revoked"] else "active"
        typer.echo(
            f"{r['label'].ljust(width)}  {r['kind']:<7}  {r['created']}  "
            f"{r['prefix'] or '(no prefix kept)'}...  {state}"
        )


@server_app.command("revoke-api-key")
def revoke_api_key(
    key: Annotated[str | None, typer.Argument(help="The API key to revoke.")] = None,
    label: Annotated[str | None, typer.Option(help="Revoke the key with this label.")] = None,
    prefix: Annotated[
        str | None, typer.Option(help="Revoke the key starting with this (see list-api-keys).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke one API key, named by the key itself, its label or its prefix."""
    import sqlalchemy as sa

    from tracewarn.server.models import ApiKey

    given = [name for name, value in (("KEY", key), ("--label", label), ("--prefix", prefix))
             if value is not None]  # fmt: skip
    if len(given) != 1:
        raise BadInput("name the key by exactly one of KEY, --label or --prefix")
    ctx = _context()
    with ctx.sessions.begin() as session:
        query = sa.select(ApiKey).where(ApiKey.revoked.is_(False))
        if key is not None:
            query = query.where(ApiKey.key_hmac == ctx.box.mac("api-key", key))
        elif label is not None:
            query = query.where(ApiKey.label == label.strip())
        else:
            assert prefix is not None
            if len(prefix) < 4:
                raise BadInput("--prefix needs at least 4 characters, e.g. tw_1a2b3c")
            query = query.where(ApiKey.key_prefix.startswith(prefix, autoescape=True))
        rows = list(session.scalars(query))
        if not rows:
            raise BadInput(f"no active API key matches {given[0]}")
        if len(rows) > 1:
            raise BadInput(
                f"{len(rows)} active API keys match {given[0]}; name one by its key or prefix"
            )
        rows[0].revoked = True
        done = {"revoked": True, "label": rows[0].label, "prefix": rows[0].key_prefix}
    if as_json:
        print_json(done)
    else:
        typer.echo(f"revoked {done['label']} ({done['prefix'] or 'no prefix kept'})")


def _region(ctx: ServerContext, region: str | None) -> str:
    """The region named (default: the home region), which must be one the server serves."""
    chosen = region or ctx.settings.home_region
    if chosen not in ctx.settings.regions:
        raise BadInput(
            f"region {chosen!r} is not configured (TRACEWARN_REGIONS: "
            f"{','.join(ctx.settings.regions)})"
        )
    return chosen


@signing_app.command("create")
def signing_create(
    region: Annotated[str | None, typer.Option(help="Region (default: the home region).")] = None,
    key_id: Annotated[
        str | None, typer.Option(help="verification_key_id, e.g. the MCC '262'.")
    ] = None,
    pem: Annotated[
        typer.FileBinaryRead | None,
        typer.Option(
            metavar="FILE", help="Import a P-256 private key (PEM) instead of generating one."
        ),
    ] = None,
) -> None:
    """Add the next key version for a region (rotation: old versions keep signing until retired)."""
    from tracewarn.protocol.gaen import load_private_key
    from tracewarn.server.distribution.signing import create_signing_key

    ctx = _context()
    region = _region(ctx, region)
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
    as_json: JsonOption = False,
) -> None:
    """Stop signing with a key version (its public key stays listed, marked retired)."""
    from tracewarn.server.distribution.signing import retire_signing_key

    ctx = _context()
    chosen = _region(ctx, region)
    try:
        with ctx.sessions.begin() as session:
            retire_signing_key(session, ctx, region=chosen, key_version=version)
    except (LookupError, ValueError) as exc:
        raise BadInput(str(exc)) from None
    if as_json:
        print_json({"retired": True, "region": chosen, "keyVersion": version})
    else:
        typer.echo(f"retired {chosen} {version}")


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
def migrate(as_json: JsonOption = False) -> None:
    """Create or upgrade the database schema (alembic upgrade head)."""
    import sqlalchemy as sa

    ctx = _context()
    with ctx.engine.connect() as connection:
        revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    ctx.engine.dispose()
    if as_json:
        print_json({"revision": revision})
    else:
        typer.echo(f"database is at the latest schema (revision {revision})")


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
