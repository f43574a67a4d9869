"""`/portal`: sign-in for health-authority staff and one page per role.

Lab staff enter a test result and get the code to hand to the person; hotline staff issue a
teleTAN or an event teleTAN; admins see publication status, signing keys and counts per day.
Codes are made by `server.verification.service`, exactly as by the lab and hotline API, and
shown once: the server keeps only their HMACs. The session cookie is scoped to `/portal`, so
the check-in page never receives it.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tracewarn.server.context import Ctx, ServerContext
from tracewarn.server.problems import Problem
from tracewarn.server.verification import service
from tracewarn.web import auth
from tracewarn.web._pages import SECURITY_HEADERS, read_form, render
from tracewarn.web.admin import admin_overview

__all__ = ["router"]

router = APIRouter(prefix="/portal", include_in_schema=False)
_LOGIN_COOKIE = "tw_login"  # double-submit token of the sign-in form (no session exists yet)
_ROLE_TITLES = {"lab": "Lab results", "hotline": "Hotline", "admin": "Administration"}


def _cookie_args(max_age: int) -> dict[str, Any]:
    return {
        "max_age": max_age,
        "path": "/portal",
        "secure": True,
        "httponly": True,
        "samesite": "strict",
    }


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=dict(SECURITY_HEADERS))


def _signed_in(ctx: ServerContext, request: Request) -> auth.SignedIn | None:
    with ctx.sessions() as session:
        return auth.session_user(session, ctx, request.cookies.get(auth.COOKIE_NAME))


def _page(ctx: ServerContext, who: auth.SignedIn, template: str, **context: Any) -> Response:
    return render(
        template,
        user=who,
        title=_ROLE_TITLES[who.role],
        csrf=auth.csrf_token(ctx, who.token),
        **context,
    )


def _login_page(message: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = render("login.html", status=status, title="Staff sign-in", csrf=token, error=message)
    response.set_cookie(_LOGIN_COOKIE, token, **_cookie_args(1800))
    return response


@router.get("")
def portal(ctx: Ctx, request: Request) -> Response:
    who = _signed_in(ctx, request)
    if who is not None:
        return _redirect(f"/portal/{who.role}")
    return _login_page()


@router.post("/login")
async def login(ctx: Ctx, request: Request) -> Response:
    ctx.rate_limit(request)
    form = await read_form(request)
    expected = request.cookies.get(_LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, form.get("csrf", "")):
        return _login_page("The form expired. Please sign in again.", status=400)
    with ctx.sessions.begin() as session:
        token = auth.sign_in(
            session, ctx, username=form.get("username", ""), password=form.get("password", "")
        )
        who = auth.session_user(session, ctx, token) if token else None
    if token is None or who is None:
        return _login_page("Unknown username or wrong password.", status=401)
    response = _redirect(f"/portal/{who.role}")
    response.set_cookie(auth.COOKIE_NAME, token, **_cookie_args(auth.SESSION_SECONDS))
    response.delete_cookie(_LOGIN_COOKIE, path="/portal")
    return response


async def _checked_post(
    ctx: ServerContext, request: Request, role: str | None
) -> tuple[auth.SignedIn, dict[str, str]] | Response:
    """The signed-in user and form of a POST with a valid CSRF token, or the response to send."""
    who = _signed_in(ctx, request)
    if who is None:
        return _redirect("/portal")
    form = await read_form(request)
    if not auth.csrf_valid(ctx, who.token, form.get("csrf")):
        raise Problem(403, "csrf", "the form's CSRF token is missing or wrong; reload the page")
    if role is not None and who.role != role:
        raise Problem(403, "forbidden", f"this page is for the {role} role")
    return who, form


@router.post("/logout")
async def logout(ctx: Ctx, request: Request) -> Response:
    checked = await _checked_post(ctx, request, None)
    if isinstance(checked, Response):
        return checked
    who, _ = checked
    with ctx.sessions.begin() as session:
        auth.sign_out(session, ctx, who.token)
    response = _redirect("/portal")
    response.delete_cookie(auth.COOKIE_NAME, path="/portal")
    return response


def _role_page(ctx: ServerContext, request: Request, role: str) -> auth.SignedIn | Response:
    who = _signed_in(ctx, request)
    if who is None:
        return _redirect("/portal")
    if who.role != role:
        raise Problem(403, "forbidden", f"this page is for the {role} role")
    return who


@router.get("/lab")
def lab(ctx: Ctx, request: Request) -> Response:
    who = _role_page(ctx, request, "lab")
    if isinstance(who, Response):
        return who
    return _page(ctx, who, "lab.html", result=None, error="")


@router.post("/lab")
async def lab_submit(ctx: Ctx, request: Request) -> Response:
    checked = await _checked_post(ctx, request, "lab")
    if isinstance(checked, Response):
        return checked
    who, form = checked
    test_type, result = form.get("test_type", ""), form.get("result", "")
    if test_type not in ("pcr", "rat") or result not in (
        "positive",
        "negative",
        "pending",
        "invalid",
    ):
        return _page(ctx, who, "lab.html", result=None, error="Choose a test type and a result.")
    earlier = form.get("code", "").strip() or None
    try:
        with ctx.sessions.begin() as session:
            code, _value, expires = service.report_lab_result(
                session, ctx, test_type=test_type, result=result, code=earlier
            )
    except Problem as problem:
        return _page(ctx, who, "lab.html", result=None, error=problem.detail, status=400)
    shown = {"code": code, "result": result, "test_type": test_type, "expires": expires}
    return _page(ctx, who, "lab.html", result=shown, error="", updated=earlier is not None)


@router.get("/hotline")
def hotline(ctx: Ctx, request: Request) -> Response:
    who = _role_page(ctx, request, "hotline")
    if isinstance(who, Response):
        return who
    return _page(ctx, who, "hotline.html", teletan=None, error="")


@router.post("/hotline")
async def hotline_submit(ctx: Ctx, request: Request) -> Response:
    checked = await _checked_post(ctx, request, "hotline")
    if isinstance(checked, Response):
        return checked
    who, form = checked
    kind = form.get("kind")
    if kind not in ("test", "event"):
        return _page(ctx, who, "hotline.html", teletan=None, error="Choose the kind of teleTAN.")
    try:
        with ctx.sessions.begin() as session:
            value, expires = service.create_teletan(session, ctx, event=kind == "event")
    except Problem as problem:
        return _page(ctx, who, "hotline.html", teletan=None, error=problem.detail, status=429)
    shown = {"value": value, "kind": kind, "expires": expires}
    return _page(ctx, who, "hotline.html", teletan=shown, error="")


@router.get("/admin")
def admin(ctx: Ctx, request: Request) -> Response:
    who = _role_page(ctx, request, "admin")
    if isinstance(who, Response):
        return who
    return _page(ctx, who, "admin.html", overview=admin_overview(ctx))
