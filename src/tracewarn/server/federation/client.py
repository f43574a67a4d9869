"""`GatewayClient`: a member backend's typed seam to the gateway (one `httpx.Client`).

In production the client presents its AUTHENTICATION certificate over mTLS to the TLS terminator
in front of the gateway (`httpx.Client(cert=(auth.pem, auth.key))`), which sets the
`X-SSL-Client-*` headers. For local use without a terminator (the demo, tests), `identity_headers`
makes the client send those headers itself, naming the same certificate; the gateway must then
be reachable only on loopback (docs/federation.md).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography import x509

from tracewarn.protocol.federation import (
    FederationKey,
    certificate_thumbprint,
    encode_batch,
    parse_batch,
)

__all__ = ["DownloadedBatch", "GatewayClient", "GatewayError", "UploadAnswer", "identity_headers"]

PROTOBUF = "application/protobuf; version=1.0"


class GatewayError(Exception):
    """The gateway refused a request or could not be reached (status 0)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"gateway answered {status}: {detail}")
        self.status = status


@dataclass(frozen=True)
class UploadAnswer:
    status: int
    report: dict[str, list[int]]


@dataclass(frozen=True)
class DownloadedBatch:
    tag: str
    next_tag: str | None
    keys: list[FederationKey]


def identity_headers(auth_certificate: x509.Certificate) -> dict[str, str]:
    """The headers a TLS terminator would add for this client certificate."""
    dn = auth_certificate.subject.rfc4514_string()
    return {
        "X-SSL-Client-SHA256": certificate_thumbprint(auth_certificate),
        "X-SSL-Client-DN": urllib.parse.quote(dn, safe="=,"),
    }


def _detail(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)[:200]


class GatewayClient:
    def __init__(self, client: httpx.Client, headers: dict[str, str] | None = None) -> None:
        self._client = client
        self._headers = headers or {}

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._headers, **kwargs.pop("headers", {})}
        try:
            return self._client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise GatewayError(0, type(exc).__name__) from None

    def upload(self, keys: list[FederationKey], *, tag: str, signature: str) -> UploadAnswer:
        response = self._request(
            "POST",
            "/diagnosiskeys/upload",
            content=encode_batch(keys),
            headers={"Content-Type": PROTOBUF, "batchTag": tag, "batchSignature": signature},
        )
        if response.status_code == 201:
            return UploadAnswer(201, {})
        if response.status_code == 207:
            return UploadAnswer(207, json.loads(response.content))
        raise GatewayError(response.status_code, _detail(response))

    def download(self, date: str, tag: str | None = None) -> DownloadedBatch | None:
        """One batch; None when there is none (404) for `date` without a tag."""
        headers = {"Accept": PROTOBUF}
        if tag is not None:
            headers["batchTag"] = tag
        response = self._request("GET", f"/diagnosiskeys/download/{date}", headers=headers)
        if response.status_code == 404 and tag is None:
            return None
        if response.status_code != 200:
            raise GatewayError(response.status_code, _detail(response))
        next_tag = response.headers.get("nextBatchTag")
        return DownloadedBatch(
            response.headers["batchTag"],
            None if next_tag in (None, "null") else next_tag,
            parse_batch(response.content),
        )

    def audit(self, date: str, tag: str) -> list[dict[str, Any]]:
        response = self._request("GET", f"/diagnosiskeys/audit/download/{date}/{tag}")
        if response.status_code != 200:
            raise GatewayError(response.status_code, _detail(response))
        entries = response.json()
        if not isinstance(entries, list):
            raise GatewayError(200, "audit answer is not a list")
        return entries

    def subscribe(self, callback_id: str, url: str) -> None:
        response = self._request(
            "PUT", f"/diagnosiskeys/callback/{callback_id}", params={"url": url}
        )
        if response.status_code != 200:
            raise GatewayError(response.status_code, _detail(response))
