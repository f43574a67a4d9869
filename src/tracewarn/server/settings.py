"""The one place that reads the environment: `Settings`, every variable prefixed `TRACEWARN_`.

With nothing set the server runs on SQLite in a data directory and needs nothing else; the
server secret (HMAC key for codes and tokens) is generated into that directory on first start.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["ConfigError", "Settings", "default_data_dir"]


class ConfigError(Exception):
    """A configuration the server cannot run with; the message names the setting to fix.

    Raised at start-up (data dir, database, secret, blob store), before anything is served, so
    `tracewarn` commands print it as one line and operators never see a traceback for a typo.
    """


_DATABASE_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "postgresql+psycopg"})


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tracewarn"


def _split_list(value: object) -> object:
    # Accept `DE,FR` as well as a JSON list, since operators type the former.
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Server configuration (environment variables `TRACEWARN_<FIELD NAME>`)."""

    model_config = SettingsConfigDict(env_prefix="TRACEWARN_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    # HMAC key for codes, tokens and API keys; all workers and hosts must share it.
    server_secret: SecretStr | None = None

    # Public base URL of this backend (e.g. https://tracewarn.example): check-in posters made at
    # /venue point at <public_url>/c; default is the URL the request came to.
    public_url: str | None = None

    host: str = "127.0.0.1"
    # 0 lets the OS pick a free port (tests); above 65535 the socket layer would wrap around.
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=256)

    # Regions: the first is the home region; keys with federation consent also go to visited ones.
    regions: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["DE"])
    supported_countries: Annotated[list[str], NoDecode] = Field(default_factory=list)

    blob_store: Literal["filesystem", "s3"] = "filesystem"
    blob_dir: Path | None = None
    s3_bucket: str = "tracewarn-cdn"
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_prefix: str = ""
    cache_max_age_seconds: int = 300

    # Verification lifetimes (CWA verification server [docs/specifications.md#cwa-verification]; GAEN reference key server [docs/specifications.md#gaen-server]).
    code_lifetime_hours: float = 24.0
    registration_token_lifetime_days: float = 14.0
    tan_lifetime_days: float = 14.0
    teletan_lifetime_minutes: float = 60.0
    event_teletan_lifetime_hours: float = 48.0
    tans_per_registration_token: int = 1
    teletans_per_hour: int = 1000

    # Submission (CWA server [docs/specifications.md#cwa-server]).
    max_keys_per_submission: int = 15
    max_request_bytes: int = 100_000
    # Every other endpoint: JSON bodies of a few fields plus at most 4 KiB of padding.
    max_json_request_bytes: int = Field(default=16_384, ge=1024)
    key_max_age_days: int = 14
    max_checkins_per_day: int = 20
    response_size_bytes: int = 1024
    # PostgreSQL connections per worker process for uploads. Many more concurrent upload
    # transactions than cores only make them contend: at 32 clients on 2 cores, 16 per worker
    # gave p99 245 ms, 3 per worker 79 ms at slightly higher throughput; too few leave the
    # database idle at low load (docs/server.md, "Performance").
    upload_db_connections: int = Field(default=3, ge=1, le=64)

    # Distribution (CWA server [docs/specifications.md#cwa-server]).
    expiry_policy_minutes: int = 120
    # Padding: every key package is filled up to this many keys with random keys whose fields
    # are drawn from the keys already published (docs/privacy.md, "Padding").
    min_keys_per_package: int = 140
    # Thresholds (docs/privacy.md): staged uploads move into the published tables only in
    # batches of at least this many uploads ...
    min_uploads_per_batch: int = Field(default=10, ge=1)
    # ... an hour's keys are held back and merged into a later package until at least this many
    # real keys are pending (CWA's shifting policy: 140; with at most 15 keys per upload that is
    # at least 10 uploads) ...
    min_keys_to_publish: int = Field(default=140, ge=1)
    # ... and check-in reports until they come from at least this many uploads.
    min_uploads_to_publish_checkins: int = Field(default=5, ge=1)
    max_keys_per_file: int = 500_000
    min_published_trl: int = 3
    days_to_publish: int = 10
    retention_days: int = 14
    publish_interval_seconds: float = 600.0

    # Federation (docs/federation.md): the gateway, this member's certificates and batch sizes.
    federation_gateway_url: str | None = None
    # Directory from `tracewarn gateway member`: auth.pem/.key, signing.pem/.key, anchor.pem.
    federation_dir: Path | None = None
    # Local use only (no TLS terminator): send the X-SSL-Client-* headers naming auth.pem.
    federation_identity_headers: bool = False
    federation_min_batch_keys: int = Field(default=140, ge=1)
    federation_max_batch_keys: int = Field(default=4000, ge=1, le=5000)
    # Also publish the union of every region's keys under this name (CWA's `EUR`), if set.
    federation_eur_package: str | None = None
    federation_interval_seconds: float = 300.0

    # Sliding-window rate limits (ratelimit.py): shared by every worker through the database
    # ("database"), or per process ("memory"). Clients are counted under a keyed hash that
    # changes every window; rows are deleted when they leave it.
    rate_limit_backend: Literal["database", "memory"] = "database"
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    rate_limit_per_client: int = 60
    rate_limit_global: int = 60_000
    # Failed API-key checks (lab results, teleTANs) a client may make per window.
    rate_limit_failures_per_client: int = 10

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str | None) -> str | None:
        # Only the two databases the migrations and tests cover; anything else would fail
        # later with a driver import error or a half-applied schema.
        if value is None:
            return value
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in _DATABASE_SCHEMES:
            raise ValueError(
                "use sqlite:///PATH or postgresql://USER@HOST:PORT/DB (postgresql+psycopg:// too)"
            )
        return value

    @field_validator("server_secret")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("regions", "supported_countries", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("regions", "supported_countries")
    @classmethod
    def _country_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha() and code.isupper()):
                raise ValueError(f"{code!r} is not an upper-case country or region code")
        return value

    @field_validator("federation_eur_package")
    @classmethod
    def _eur_code(cls, value: str | None) -> str | None:
        if value is not None:
            cls._country_codes([value])
        return value

    @field_validator("regions")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one region is needed")
        return value

    @property
    def home_region(self) -> str:
        return self.regions[0]

    @property
    def countries(self) -> list[str]:
        """Countries a submission may name as visited: the regions plus any extra configured."""
        return list(dict.fromkeys([*self.regions, *self.supported_countries]))

    @property
    def published_regions(self) -> list[str]:
        """Regions with packages: the configured ones plus the federation-wide union, if set."""
        extra = [self.federation_eur_package] if self.federation_eur_package else []
        return list(dict.fromkeys([*self.regions, *extra]))

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tracewarn.db'}"

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir or self.data_dir / "cdn"
