"""`/venue`: a venue, checkpoint, train coach or flight gets its check-in QR poster (no account).

The poster is drawn by `web.poster` in a temporary directory that is deleted before the answer
leaves; the page carries the PNG and PDF inline as data URLs, so the server keeps no copy, no
log line and no table row of what was made. The QR URL points at this backend's check-in page
`/c` (or `TRACEWARN_PUBLIC_URL`), with the payload in the fragment, which browsers never send.
"""

from __future__ import annotations

import base64
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tracewarn.protocol.errors import ProtocolError
from tracewarn.protocol.presence import (
    LocationType,
    TraceLocation,
    TransportDetails,
    build_qr_url,
    encode_qr_payload,
    validate_location,
)
from tracewarn.server.context import Ctx
from tracewarn.web._pages import read_form, render
from tracewarn.web.poster import write_poster

__all__ = ["checkin_url_prefix", "router"]

router = APIRouter(include_in_schema=False)

KINDS: Final = ("venue", "checkpoint", "train", "flight")
# CWA's own location types a venue or event may choose (tracewarn's come from `kind`).
VENUE_TYPES: Final = tuple(
    t for t in LocationType if 0 < t.value < 100 and t is not LocationType.UNSPECIFIED
)


class FormError(ValueError):
    """A field the person must correct; the message names it."""


def checkin_url_prefix(public_url: str | None, request: Request) -> str:
    base = (public_url or str(request.base_url)).rstrip("/")
    return f"{base}/c?v=1#"


def _label(t: LocationType) -> str:
    return t.name.replace("_", " ").capitalize()


def _time(form: dict[str, str], name: str, label: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FormError(f"{label} is not a date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # the form says the times are UTC
    return int(moment.timestamp())


def _required(form: dict[str, str], name: str, label: str) -> str:
    text = form.get(name, "").strip()
    if not text:
        raise FormError(f"{label} is required")
    return text


def location_from_form(form: dict[str, str], seed: bytes) -> TraceLocation:
    """The location the form describes; FormError naming the field to correct."""
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise FormError("choose what the code is for")
    description = _required(form, "description", "Name")
    address = _required(form, "address", "Address")
    start, end = _time(form, "start", "Start"), _time(form, "end", "End")
    length_text = form.get("default_length", "").strip()
    try:
        length = int(length_text) if length_text else None
    except ValueError:
        raise FormError("Default check-in length is a whole number of minutes") from None
    if length is not None and not 1 <= length <= 24 * 60:
        raise FormError("Default check-in length is 1 to 1440 minutes")
    transport = None
    if kind == "venue":
        try:
            location_type = LocationType.from_name(form.get("venue_type", ""))
        except ProtocolError:
            raise FormError("choose the kind of venue or event") from None
        if location_type not in VENUE_TYPES:
            raise FormError("choose the kind of venue or event")
    elif kind == "checkpoint":
        location_type = LocationType.CHECKPOINT
        length = length or 15
    else:
        location_type = LocationType.TRAIN_COACH if kind == "train" else LocationType.FLIGHT
        service = _required(form, f"{kind}_service", "Train" if kind == "train" else "Flight")
        unit = form.get(f"{kind}_unit", "").strip()
        if kind == "train" and not unit:
            raise FormError("Coach is required for a train")
        day_text = _required(form, f"{kind}_date", "Service date")
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            raise FormError("Service date is not a date") from None
        transport = TransportDetails(service, unit, day)
    if (start is None) != (end is None):
        raise FormError("give both start and end, or neither")
    location = TraceLocation(
        description=description,
        address=address,
        type=location_type,
        cryptographic_seed=seed,
        start_timestamp=start or 0,
        end_timestamp=end or 0,
        default_check_in_length_minutes=length,
        transport=transport,
    )
    try:
        return validate_location(location)
    except ProtocolError as exc:
        raise FormError(str(exc)) from None


def _poster(location: TraceLocation, url: str) -> tuple[bytes, bytes]:
    with tempfile.TemporaryDirectory(prefix="tracewarn-poster-") as tmp:
        files = write_poster(location, url, Path(tmp) / "poster.pdf")
        return files.pdf.read_bytes(), files.png.read_bytes()


def _form_page(form: dict[str, str], error: str = "", status: int = 200) -> Response:
    return render(
        "venue.html",
        status=status,
        title="Check-in QR poster",
        form=form,
        error=error,
        venue_types=[(t.name.lower().replace("_", "-"), _label(t)) for t in VENUE_TYPES],
        poster=None,
    )


@router.get("/venue")
def venue_form() -> Response:
    return _form_page({"kind": "venue", "venue_type": "permanent-food-service"})


@router.post("/venue")
async def venue_poster(ctx: Ctx, request: Request) -> Response:
    ctx.rate_limit(request)  # drawing a poster costs about a second of CPU
    form = await read_form(request)
    try:
        location = location_from_form(form, ctx.random_bytes(16))
    except FormError as exc:
        return _form_page(form, str(exc), status=400)
    payload = encode_qr_payload(location)
    url = build_qr_url(payload, checkin_url_prefix(ctx.settings.public_url, request))
    pdf, png = await run_in_threadpool(_poster, location, url)
    poster: dict[str, Any] = {
        "url": url,
        "description": location.description,
        "png": "data:image/png;base64," + base64.b64encode(png).decode(),
        "pdf": "data:application/pdf;base64," + base64.b64encode(pdf).decode(),
        "filename": "checkin-poster",
    }
    return render(
        "venue.html",
        title="Check-in QR poster",
        form=form,
        error="",
        venue_types=[(t.name.lower().replace("_", "-"), _label(t)) for t in VENUE_TYPES],
        poster=poster,
    )
