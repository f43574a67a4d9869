"""What every page shares: the Jinja2 environment, security headers and form parsing.

Pages are rendered on the server with autoescaping on; every script and style sheet is a file
under `static/` served by this backend, so the Content-Security-Policy can forbid inline code and
any other origin. Nothing here logs a request or reads the client's address.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from tracewarn.server.problems import Problem

__all__ = [
    "CSP",
    "SECURITY_HEADERS",
    "STATIC_DIR",
    "read_form",
    "render",
]

STATIC_DIR: Final = Path(__file__).with_name("static")
_TEMPLATES: Final = Path(__file__).with_name("templates")
MAX_FORM_BYTES: Final = 16_384

# Only this origin, no inline script or style, no plugins, no framing. `img-src data:` lets the
# venue page show the poster it just rendered without the server keeping a copy to link to.
CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # The check-in URL's fragment never leaves the browser; no referrer keeps the path private too.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cache-Control": "no-store",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
)
_env.filters["utc"] = lambda ts: dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime(
    "%Y-%m-%d %H:%M UTC"
)


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """An HTML page with the security headers."""
    html = _env.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=dict(SECURITY_HEADERS))


async def read_form(request: Request) -> dict[str, str]:
    """An `application/x-www-form-urlencoded` body, bounded, first value of each field."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise Problem(415, "unsupported-media-type", "forms are sent url-encoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Problem(413, "payload-too-large", f"a form is at most {MAX_FORM_BYTES} bytes")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "bad-request", "the form is not valid url-encoded UTF-8") from None
    return {name: values[0] for name, values in fields.items()}
