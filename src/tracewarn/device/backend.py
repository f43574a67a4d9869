"""The device's only door to the backend: CWA-style HTTP calls over a given `httpx.Client`.

The client carries the base URL (the demo: the real server on loopback; tests:
`httpx.ASGITransport(app)`). Every body the device sends is padded to a fixed size and every
call can be sent as a fake (`cwa-fake: 1`), so an observer of the traffic cannot tell a real
report from the background noise every device makes (CWA server [docs/specifications.md#cwa-server], "Client padding").
"""

from __future__ import annotations

import json
from typing import Any

import httpx

__all__ = ["Backend", "BackendError"]

JSON_BODY_SIZE = 250
SUBMISSION_BODY_SIZE = 15 * 28 + 1024  # 15 keys of 28 bytes plus room for check-in reports


class BackendError(Exception):
    """The backend refused a request (4xx/5xx) or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Backend:
    """Typed calls to a tracewarn (or CWA-compatible) backend."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    # -- verification -------------------------------------------------------------------------

    def registration_token(self, key_type: str, key: str, *, fake: bool = False) -> str:
        body = self._post_json(
            "/version/v1/registrationToken", {"keyType": key_type, "key": key}, fake=fake
        )
        return str(body["registrationToken"])

    def test_result(self, token: str, *, fake: bool = False) -> int:
        body = self._post_json("/version/v1/testresult", {"registrationToken": token}, fake=fake)
        return int(body["testResult"])

    def tan(self, token: str, *, fake: bool = False) -> str:
        body = self._post_json("/version/v1/tan", {"registrationToken": token}, fake=fake)
        return str(body["tan"])

    def submit(self, tan: str, payload: bytes, *, fake: bool = False) -> None:
        headers = {
            "cwa-authorization": tan,
            "cwa-fake": "1" if fake else "0",
            "content-type": "application/x-protobuf",
        }
        self._check(
            self._send("POST", "/version/v1/diagnosis-keys", content=payload, headers=headers)
        )

    # -- distribution --------------------------------------------------------------------------

    def get(self, path: str) -> bytes:
        return self._check(self._send("GET", path)).content

    def get_json(self, path: str) -> Any:
        try:
            return json.loads(self.get(path))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BackendError(f"{path} did not return JSON") from None

    # -- plumbing ------------------------------------------------------------------------------

    def _post_json(self, path: str, payload: dict[str, Any], *, fake: bool) -> Any:
        body = _padded(payload, JSON_BODY_SIZE)
        headers = {"cwa-fake": "1" if fake else "0", "content-type": "application/json"}
        response = self._check(self._send("POST", path, content=body, headers=headers))
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BackendError(f"{path} did not return JSON", response.status_code) from None

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise BackendError(f"cannot reach the backend: {exc}") from None

    @staticmethod
    def _check(response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            detail = ""
            try:
                problem = response.json()
                detail = problem.get("detail") or problem.get("title") or ""
            except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
                detail = response.text[:200]
            raise BackendError(
                f"{response.request.method} {response.request.url.path} answered "
                f"{response.status_code}: {detail}",
                response.status_code,
            )
        return response


def _padded(payload: dict[str, Any], size: int) -> bytes:
    # requestPadding fills the body up to `size` bytes so all bodies of a call look alike.
    base = json.dumps({**payload, "requestPadding": ""}, separators=(",", ":")).encode()
    missing = max(0, size - len(base))
    return json.dumps({**payload, "requestPadding": "x" * missing}, separators=(",", ":")).encode()
