"""Gateway configuration: environment variables `TRACEWARN_GATEWAY_<FIELD>`.

Defaults follow the EFGS production configuration (EU Federation Gateway Service [docs/specifications.md#efgs]): 5,000 keys per upload
and per download batch, download window of 2 days, keys accepted up to 15 days old, batching every
5 minutes, callbacks retried 5 times 300 s apart.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tracewarn.server.settings import default_data_dir

__all__ = ["GatewaySettings"]


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRACEWARN_GATEWAY_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: default_data_dir() / "gateway")
    database_url: str | None = None
    # The operator's trust anchor certificate (PEM); default <data_dir>/anchor/anchor.pem.
    anchor_certificate: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8100

    max_upload_keys: int = Field(default=5000, ge=1)
    max_upload_bytes: int = Field(default=2_000_000, ge=1000)
    max_download_batch_keys: int = Field(default=5000, ge=1)
    max_age_days: int = Field(default=2, ge=1)
    key_max_age_days: int = Field(default=15, ge=1)
    # Upload batches (tag, signature hash) are remembered this long, beyond key retention, so a
    # batch cannot be replayed while its keys would still be accepted (EU Federation Gateway Service [docs/specifications.md#efgs], replay).
    replay_window_days: int = Field(default=16, ge=1)
    batching_interval_seconds: float = 300.0
    callback_retries: int = 5
    callback_retry_seconds: int = 300
    callback_timeout_seconds: float = 10.0
    # Local demos and tests only: allow http:// callbacks to loopback addresses.
    callback_allow_loopback: bool = False
    # RFC 9457 bodies are not padded: members, not phones, talk to the gateway.
    response_size_bytes: int = 0

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'gateway.db'}"

    @property
    def resolved_anchor(self) -> Path:
        return self.anchor_certificate or self.data_dir / "anchor" / "anchor.pem"
