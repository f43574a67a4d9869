"""The staff portal: accounts, sessions, CSRF, roles, and codes made by the verification service."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli._run import run_main
from tracewarn.protocol.verification import is_teletan
from tracewarn.server.models import WebSession, WebUser
from tracewarn.web.auth import create_user, verify_password

from .conftest import PASSWORD, WebApp

_CODE = re.compile(r'<p class="code" id="(?:code|teletan)">([^<]+)</p>')


def _shown_code(html: str) -> str:
    found = _CODE.search(html)
    assert found is not None, html[:800]
    return found.group(1)


def test_sign_in_sets_a_locked_down_session_cookie_and_goes_to_the_role_page(
    web_db: WebApp,
) -> None:
    web = web_db
    response = web.sign_in("lab1")
    assert response.status_code == 303
    assert response.headers["location"] == "/portal/lab"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("tw_session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite", "path"} <= attributes
    assert "samesite=strict" in cookie.lower() and "path=/portal" in cookie.lower()
    page = web.client.get("/portal/lab")
    assert page.status_code == 200 and "Enter a test result" in page.text
    # The database holds only the HMAC of the session token.
    token = web.client.cookies["tw_session"]
    with web.ctx.sessions() as session:
        rows = session.scalars(sa.select(WebSession)).all()
    assert len(rows) == 1 and token.encode() not in rows[0].token_hmac


@pytest.mark.parametrize(
    ("username", "password"), [("lab1", "wrong password!"), ("nobody", PASSWORD)]
)
def test_wrong_credentials_are_refused_alike(web: WebApp, username: str, password: str) -> None:
    response = web.sign_in(username, password)
    assert response.status_code == 401
    assert "Unknown username or wrong password." in response.text
    assert "tw_session" not in web.client.cookies


def test_sign_in_without_the_form_token_is_refused(web: WebApp) -> None:
    response = web.client.post(
        "/portal/login", data={"username": "lab1", "password": PASSWORD, "csrf": "forged"}
    )
    assert response.status_code == 400
    assert "tw_session" not in web.client.cookies


def test_lab_code_comes_from_the_verification_service_and_registers(web_db: WebApp) -> None:
    web = web_db
    web.sign_in("lab1")
    page = web.client.get("/portal/lab")
    forged = web.client.post("/portal/lab", data={"test_type": "pcr", "result": "positive"})
    assert forged.status_code == 403
    assert forged.headers["content-type"].startswith("application/problem+json")
    answer = web.client.post(
        "/portal/lab",
        data={"test_type": "pcr", "result": "positive", "code": "", "csrf": web.csrf(page.text)},
    )
    assert answer.status_code == 200
    code = _shown_code(answer.text)
    token = web.client.post(
        "/version/v1/registrationToken",
        json={"keyType": "GUID", "key": hashlib.sha256(code.encode()).hexdigest()},
    ).json()["registrationToken"]
    result = web.client.post("/version/v1/testresult", json={"registrationToken": token})
    assert result.json()["testResult"] == 2  # PCR positive


def test_hotline_issues_teletans_and_event_teletans(web: WebApp) -> None:
    web.sign_in("hotline1")
    csrf = web.csrf(web.client.get("/portal/hotline").text)
    for kind in ("test", "event"):
        answer = web.client.post("/portal/hotline", data={"kind": kind, "csrf": csrf})
        assert answer.status_code == 200
        teletan = _shown_code(answer.text)
        assert is_teletan(teletan)
        token = web.client.post(
            "/version/v1/registrationToken", json={"keyType": "TELETAN", "key": teletan}
        )
        assert token.status_code == 201, token.text
    assert "Event teleTAN" in answer.text


def test_roles_only_reach_their_own_page(web: WebApp) -> None:
    web.sign_in("lab1")
    assert web.client.get("/portal/hotline").status_code == 403
    assert web.client.get("/portal/admin").status_code == 403
    csrf = web.csrf(web.client.get("/portal/lab").text)
    assert (
        web.client.post("/portal/hotline", data={"kind": "test", "csrf": csrf}).status_code == 403
    )


def test_admin_sees_counts_per_day_and_nothing_per_person(web: WebApp) -> None:
    web.sign_in("lab1")
    csrf = web.csrf(web.client.get("/portal/lab").text)
    answer = web.client.post(
        "/portal/lab", data={"test_type": "rat", "result": "negative", "csrf": csrf}
    )
    code = _shown_code(answer.text)
    web.client.cookies.clear()
    web.sign_in("admin1")
    page = web.client.get("/portal/admin")
    assert page.status_code == 200
    assert "Counts per day" in page.text and "Signing keys" in page.text
    today = re.search(r"<tr><th scope=\"row\">[0-9-]+</th><td>(\d+)</td>", page.text)
    assert today is not None and today.group(1) == "1"
    assert code not in page.text
    cells = re.findall(r"<td>([^<]*)</td>", page.text)
    assert cells and all(c.isdigit() for c in cells[-14 * 4 :])  # four numeric columns, 14 days


def test_sign_out_ends_the_session(web: WebApp) -> None:
    web.sign_in("admin1")
    page = web.client.get("/portal/admin")
    token = web.client.cookies["tw_session"]
    out = web.client.post("/portal/logout", data={"csrf": web.csrf(page.text)})
    assert out.status_code == 303
    web.client.cookies.set("tw_session", token, domain="127.0.0.1", path="/portal")
    assert web.client.get("/portal/admin").headers["location"] == "/portal"


def test_pages_carry_a_strict_content_security_policy(web: WebApp) -> None:
    for path in ("/portal", "/venue", "/c", "/c/warnings", "/web/static/checkin.js"):
        response = web.client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "http" not in csp
        assert response.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in web.client.get("/c").headers
    assert web.client.get("/web/static/../auth.py").status_code == 404


def test_passwords_are_stored_as_argon2_hashes_and_rules_are_enforced(web: WebApp) -> None:
    with web.ctx.sessions.begin() as session:
        stored = session.scalars(sa.select(WebUser).where(WebUser.username == "lab1")).one()
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        assert verify_password(stored.password_hash, PASSWORD)
        for kwargs, rule in (
            ({"username": "x2", "password": "short", "role": "lab"}, "at least 12"),
            ({"username": "x3", "password": PASSWORD, "role": "root"}, "role"),
            ({"username": "lab1", "password": PASSWORD, "role": "lab"}, "already exists"),
            ({"username": "Bad Name", "password": PASSWORD, "role": "lab"}, "username"),
        ):
            with pytest.raises(ValueError, match=rule):
                create_user(session, web.ctx, **kwargs)


def test_create_user_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setenv("TRACEWARN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TRACEWARN_DATABASE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ("server", "create-user", "carol", "--role", "hotline", "--password-stdin")
    assert run_main(monkeypatch, *args) == 0
    assert "created hotline user carol" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert run_main(monkeypatch, *args) == 2
    assert capsys.readouterr().err.strip() == "tracewarn: error: user 'carol' already exists"
