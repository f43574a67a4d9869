"""The pages in a real browser (Debian's Chromium via Playwright), against a live backend.

1. Staff sign in, the lab enters a positive result, and a virtual device uploads with the code.
2. A venue makes a poster, the browser opens its URL and checks in, a case reports that place,
   and the browser's warnings view (WebCrypto, in the page) shows the warning.
3. The browser's visit leaves nothing in the server's database or logs.
4. The page's JavaScript crypto reproduces CWA's published presence-tracing vectors.
"""

from __future__ import annotations

import hashlib
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
from tracewarn.protocol.presence import (
    TRACEWARN_URL_PREFIX,
    decode_location_url,
    encode_qr_payload,
)
from tracewarn.protocol.verification import is_teletan
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
            for role in ("lab", "hotline", "admin"):
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


def _unlabelled(page: Any) -> list[str]:
    """Form controls without a label (screen readers would announce them without a name)."""
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll("input:not([type=hidden]), select")]
                  .filter((e) => !e.labels || e.labels.length === 0).map((e) => e.name || e.id)"""
        )
    )


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
            json={"keyType": "GUID", "key": hashlib.sha256(code.encode()).hexdigest()},
        )
    assert again.status_code == 400 and "already" in again.json()["detail"]


def test_hotline_by_keyboard_alone_and_the_admin_overview(page: Any, live: LiveServer) -> None:
    page.goto(f"{live.url}/portal")
    # Keyboard only: the username field has the focus, Tab moves on, Enter submits.
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("hotline1")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.url}/portal/hotline")
    page.get_by_label("Event teleTAN for a host warning").check()
    page.get_by_role("button", name="Issue").click()
    assert is_teletan(page.locator("#teletan").inner_text().strip())
    screenshot(page, "portal-hotline")
    assert _unlabelled(page) == []
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live.url}/portal")
    page.get_by_label("Username").fill("admin1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/portal/admin")
    assert page.get_by_role("heading", name="Counts per day (UTC)").is_visible()
    screenshot(page, "portal-admin")
    _only_local(page, live)


def _lab_code(live: LiveServer) -> str:
    from tracewarn.server.verification import service

    with live.ctx.sessions.begin() as session:
        code, _, _ = service.report_lab_result(
            session, live.ctx, test_type="pcr", result="positive", code=None
        )
    return code


def test_venue_poster_check_in_case_reports_and_browser_warns_leaving_no_trace(
    page: Any, live: LiveServer, tmp_path: Path
) -> None:
    page.goto(f"{live.url}/venue")
    page.get_by_label("Name shown on check-in").fill("Café Lindenhof")
    page.get_by_label("Address or route").fill("Lindenstraße 4, Musterstadt")
    page.get_by_label("Kind of venue or event").select_option("permanent-food-service")
    page.get_by_label("Default check-in length in minutes").fill("90")
    assert _unlabelled(page) == []
    screenshot(page, "venue-form")
    # Enter, not a click: after a full-page screenshot of a long page Chromium may drop a click.
    page.get_by_role("button", name="Make poster").press("Enter")
    # Drawing the poster takes a second of CPU, much longer on a loaded machine.
    url = page.locator("#checkin-url").inner_text(timeout=90_000).strip()
    assert page.locator("#poster-image").evaluate("img => img.naturalWidth") > 1000
    screenshot(page, "venue-poster")
    fragment = url.split("#", 1)[1]
    decoded = decode_location_url(TRACEWARN_URL_PREFIX + fragment)
    assert decoded.location.description == "Café Lindenhof"
    assert url.startswith(f"{live.url}/c?v=1#")
    _only_local(page, live)

    before = live.snapshot()
    log_before = live.log_text()
    visitor = page.context.browser.new_context(viewport={"width": 420, "height": 860})
    visitor_requests: list[str] = []
    visitor.on("request", lambda r: visitor_requests.append(r.url))
    phone = visitor.new_page()
    try:
        phone.goto(url)
        phone.locator("#app[data-ready]").wait_for(state="attached")
        phone.get_by_text("Café Lindenhof").first.wait_for()
        assert phone.locator("#place-address").inner_text() == "Lindenstraße 4, Musterstadt"
        assert phone.get_by_label("Check me out automatically after").input_value() == "90"
        assert _unlabelled(phone) == []
        screenshot(phone, "checkin-place")
        phone.get_by_role("button", name="Check in").press("Enter")
        phone.locator("#current").wait_for()
        assert (
            "You will be checked out automatically" in phone.locator("#current-text").inner_text()
        )
        assert "#" not in phone.url  # the code left the address bar and the history
        screenshot(phone, "checkin-done")
        stored = phone.evaluate(
            """() => new Promise((resolve) => {
                const r = indexedDB.open("tracewarn");
                r.onsuccess = () => {
                  const q = r.result.transaction("checkins").objectStore("checkins").getAll();
                  q.onsuccess = () => resolve(q.result);
                };
            })"""
        )
        assert [s["locationId"] for s in stored] == [decoded.location_id.hex()]
        # An open stay counts up to now; give it at least a second so the overlap is not empty.
        for _ in range(30):
            if int(time.time()) > stored[0]["start"] + 1:
                break
            time.sleep(0.1)
        assert visitor.cookies() == []

        # A case who was there too tests positive and shares the check-in.
        device = _device(tmp_path, "case")
        try:
            now = int(time.time())
            device.check_in(TRACEWARN_URL_PREFIX + fragment, start=now - 3000, end=now - 300)
            with httpx.Client(base_url=live.url.replace("localhost", "127.0.0.1")) as client:
                summary = device.report(client, guid=_lab_code(live))
        finally:
            device.close()
        assert summary["check_in_reports"] >= 1
        publish(live.ctx, now=int(time.time()) + 3600)  # the upload's hour is over

        after_case = live.snapshot()
        log_after_case = live.log_text()
        phone.goto(f"{live.url}/c/warnings")
        phone.locator("#app[data-ready]").wait_for(state="attached")
        phone.get_by_role("button", name="Check for warnings").click()
        phone.wait_for_function(
            "() => /^(Checked|Could not)/.test(document.getElementById('status').textContent)",
            timeout=20_000,
        )
        status = phone.locator("#status").inner_text()
        details = phone.locator("#status").evaluate("e => JSON.stringify(e.dataset)")
        # One warning (two if the stay crossed UTC midnight: one per day part, as CWA counts).
        assert re.search(r": [12] warnings?\.$", status), (status, details, now)
        text = phone.locator("li.warning").first.inner_text()
        assert "Café Lindenhof" in text and "tested positive" in text
        screenshot(phone, "warnings")

        # Privacy: the visit and the in-browser matching left nothing on the server.
        assert live.snapshot() == after_case
        assert live.log_text() == log_after_case
        visit_rows = {k: v for k, v in before.items() if k not in ("checkin_report",)}
        assert {k: v for k, v in after_case.items() if k in visit_rows}.keys() == visit_rows.keys()
        dump = repr(after_case).encode() + live.log_text().encode()
        for secret in (
            "Café Lindenhof".encode(),
            "Lindenstraße".encode(),
            fragment.encode(),
            decoded.location_id,
            decoded.location_id.hex().encode(),
            decoded.payload,
        ):
            assert secret not in dump
        assert "127.0.0.1" not in live.log_text() and "/c" not in log_before + live.log_text()
        foreign = [u for u in visitor_requests if not u.startswith(live.url)]
        assert foreign == []
        assert not any(fragment in u for u in visitor_requests)
    finally:
        visitor.close()


def test_browser_crypto_reproduces_cwa_presence_vectors(page: Any, live: LiveServer) -> None:
    vectors = load_vector_json("cwa", "presence-tracing-crypto-vectors.json")
    page.goto(f"{live.url}/c/warnings")
    results = page.evaluate(
        """async (v) => {
          const tw = window.tracewarn, b = tw.bytes, c = tw.crypto;
          const out = {ids: [], hashes: [], keys: [], macs: [], encrypt: [], decrypt: [], decoded: []};
          for (const x of v.locationIdFromQrCodePayload) {
            const payload = b.fromBase64(x.qrCodePayload);
            out.ids.push(b.toBase64(await c.locationId(payload)));
            const loc = tw.location.decodePayload(payload);
            out.decoded.push([loc.description, loc.address, loc.startTimestamp, loc.endTimestamp,
                              loc.defaultCheckInLengthMinutes, b.toBase64(loc.cryptographicSeed)]);
          }
          for (const x of v.locationIdHash)
            out.hashes.push(b.hex(await c.locationIdHash(b.fromHex(x.locationId_hex))));
          for (const x of v.keyDerivation) {
            const id = b.fromBase64(x.locationId);
            out.keys.push([b.toBase64(await c.encryptionKey(id)), b.toBase64(await c.macKey(id))]);
          }
          for (const x of v.mac)
            out.macs.push(b.toBase64(await c.reportMac(b.fromBase64(x.macKey), b.fromBase64(x.iv),
                                                       b.fromBase64(x.encryptedCheckInRecord))));
          for (const x of v.encrypt) {
            const r = await c.encryptCheckInRecord(b.fromBase64(x.locationId), x.derivedCheckInRecord,
                                                   b.fromBase64(x.iv));
            out.encrypt.push([b.toBase64(r.encryptedCheckInRecord), b.toBase64(r.mac)]);
          }
          for (const x of v.decrypt) {
            const id = b.fromBase64(x.locationId);
            const report = {locationIdHash: await c.locationIdHash(id), iv: b.fromBase64(x.iv),
                            encryptedCheckInRecord: b.fromBase64(x.encryptedCheckInRecord),
                            mac: b.fromBase64(x.mac)};
            try { out.decrypt.push(await c.decryptReport(id, report)); }
            catch (e) { out.decrypt.push(e instanceof tw.InvalidMAC ? "MAC_MISMATCH_ERROR" : String(e)); }
          }
          return out;
        }""",
        vectors,
    )
    cases = vectors["locationIdFromQrCodePayload"]
    assert results["ids"] == [c["expectedLocationId"] for c in cases]
    for got, case in zip(results["decoded"], cases, strict=True):
        data = case["decoded"]["locationData"]
        vendor = case["decoded"]["vendorData(CWALocationData)"]
        seed = case["decoded"]["crowdNotifierData"]["cryptographicSeed"]
        assert got == [
            data["description"],
            data["address"],
            data.get("startTimestamp", 0),
            data.get("endTimestamp", 0),
            vendor["defaultCheckInLengthInMinutes"],
            seed,
        ]
    assert results["hashes"] == [c["expectedHash_hex"] for c in vectors["locationIdHash"]]
    assert results["keys"] == [
        [c["expectedEncryptionKey"], c["expectedMacKey"]] for c in vectors["keyDerivation"]
    ]
    assert results["macs"] == [c["expectedMac"] for c in vectors["mac"]]
    assert results["encrypt"] == [
        [c["expectedEncryptedCheckInRecord"], c["expectedMac"]] for c in vectors["encrypt"]
    ]
    assert results["decrypt"] == [c["expected"] for c in vectors["decrypt"]]


def test_check_out_by_hand_and_automatically(browser: Any, live: LiveServer) -> None:
    from tracewarn.protocol.presence import LocationType, TraceLocation, build_qr_url

    gate = TraceLocation(
        "Gate B", "Airport", LocationType.CHECKPOINT, b"g" * 16, default_check_in_length_minutes=15
    )
    hall = TraceLocation(
        "Hall 3", "Fair grounds", LocationType.PERMANENT_OTHER, b"h" * 16, 0, 0, 30
    )
    urls = [build_qr_url(encode_qr_payload(x), f"{live.url}/c?v=1#") for x in (gate, hall)]
    context = browser.new_context()
    try:
        page = context.new_page()
        page.clock.install()  # the page's clock, so the automatic check-out can be reached
        page.goto(urls[0])
        page.locator("#app[data-ready]").wait_for(state="attached")
        assert page.get_by_label("Check me out automatically after").input_value() == "15"
        page.get_by_role("button", name="Check in").press("Enter")
        page.locator("#current").wait_for()
        page.get_by_role("button", name="Check out now").click()
        page.locator("#current").wait_for(state="hidden")
        assert "until" in page.locator("#checkins li").first.inner_text()

        page.goto(urls[1])
        page.locator("#app[data-ready]").wait_for(state="attached")
        page.get_by_role("button", name="Check in").press("Enter")
        page.locator("#current").wait_for()
        page.goto(urls[1])  # the same code again while checked in: no second check-in
        page.locator("#app[data-ready]").wait_for(state="attached")
        assert page.locator("#checkin-form").is_hidden()
        page.clock.fast_forward("31:00")  # past the code's 30-minute default length
        page.locator("#current").wait_for(state="hidden")
        items = page.locator("#checkins li").all_inner_texts()
        assert len(items) == 2 and all("until" in item for item in items)
    finally:
        context.close()
