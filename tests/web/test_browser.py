"""The pages in a real browser (Debian's Chromium via Playwright), against a live backend.

1. Staff sign in, the lab enters a positive result, and a virtual device uploads with the code.
2. A venue makes a poster, the browser opens its URL and checks in, a case reports that place,
   and the browser's warnings view (WebCrypto, in the page) shows the warning.
3. The browser's visit leaves nothing in the server's database or logs.
4. The page's JavaScript crypto reproduces CWA's published presence-tracing vectors.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import load_vector_json
from tracewarn.device import VirtualDevice
from tracewarn.device.clock import SystemClock
from tracewarn.protocol.presence import TRACEWARN_URL_PREFIX, decode_location_url
from tracewarn.server.distribution.publish import publish
from tracewarn.server.models import WebUser
from tracewarn.web.auth import hash_password

from .browser import LiveServer, launch_browser, live_server, screenshot

PASSWORD = "lab password 123"  # a test account's password


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_browser()


@pytest.fixture(scope="module")
def live(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live")) as server:
        with server.ctx.sessions.begin() as session:
            for role in ("lab", "admin"):
                session.add(
                    WebUser(
                        username=f"{role}1",
                        password_hash=hash_password(PASSWORD),
                        role=role,
                        created_at=server.ctx.now(),
                        disabled=False,
                    )
                )
        yield server


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 900, "height": 900})
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    page = context.new_page()
    page.requests = requests
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    assert errors == []


def _only_local(page: Any, live: LiveServer) -> None:
    foreign = [u for u in page.requests if not u.startswith(live.url) and not u.startswith("data:")]
    assert foreign == []


def _device(tmp_path: Path, name: str) -> VirtualDevice:
    return VirtualDevice.open(tmp_path / name, clock=SystemClock(), durable=False)


def test_staff_sign_in_issue_code_and_a_device_uploads_with_it(
    page: Any, live: LiveServer, tmp_path: Path
) -> None:
    page.goto(f"{live.url}/portal")
    screenshot(page, "portal-sign-in")
    page.get_by_label("Username").fill("lab1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/portal/lab")
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "tw_session")
    assert session["httpOnly"] and session["secure"] and session["sameSite"] == "Strict"
    page.get_by_label("Result", exact=True).select_option("positive")
    page.get_by_role("button", name="Save result").click()
    code = page.locator("#code").inner_text().strip()
    screenshot(page, "portal-lab-code")
    _only_local(page, live)

    device = _device(tmp_path, "case")
    try:
        device.current_tek()
        with httpx.Client(base_url=live.url.replace("localhost", "127.0.0.1")) as client:
            summary = device.report(client, guid=code)
    finally:
        device.close()
    assert summary["keys"] >= 1
    # The code was used once: the portal's code is the verification service's code.
    with httpx.Client(base_url=live.url.replace("localhost", "127.0.0.1")) as client:
        again = client.post(
            "/version/v1/registrationToken",
            json={"keyType": "GUID", "key": __import__("hashlib").sha256(code.encode()).hexdigest()},
        )
    assert again.status_code == 400 and "already" in again.json()["detail"]
