"""The venue page: posters for venues, checkpoints, train coaches and flights; nothing kept."""

from __future__ import annotations

import base64
import re
import tempfile
from pathlib import Path

import pytest

from tracewarn.protocol.presence import TRACEWARN_URL_PREFIX, LocationType, scan_location_url

from .browser import table_rows
from .conftest import WebApp

_URL = re.compile(r'id="checkin-url" href="([^"]+)"')


def _poster(web: WebApp, **fields: str) -> tuple[str, str]:
    response = web.client.post("/venue", data=fields)
    assert response.status_code == 200, response.text[:2000]
    url = _URL.search(response.text)
    assert url is not None
    return url.group(1), response.text


@pytest.mark.parametrize(
    ("fields", "expected_type", "transport"),
    [
        (
            {
                "kind": "venue",
                "venue_type": "temporary-cultural-event",
                "start": "2026-12-05T18:00",
                "end": "2026-12-05T22:00",
            },
            LocationType.TEMPORARY_CULTURAL_EVENT,
            None,
        ),
        ({"kind": "checkpoint"}, LocationType.CHECKPOINT, None),
        (
            {
                "kind": "train",
                "train_service": "ICE 597",
                "train_unit": "7",
                "train_date": "2026-12-05",
                "start": "2026-12-05T08:00",
                "end": "2026-12-05T12:30",
            },
            LocationType.TRAIN_COACH,
            ("ICE 597", "7", "2026-12-05"),
        ),
        (
            {"kind": "flight", "flight_service": "LH 2024", "flight_date": "2026-12-06"},
            LocationType.FLIGHT,
            ("LH 2024", "", "2026-12-06"),
        ),
    ],
)
def test_each_kind_gets_a_poster_whose_url_scans_as_that_place(
    web: WebApp,
    fields: dict[str, str],
    expected_type: LocationType,
    transport: tuple[str, str, str] | None,
) -> None:
    url, html = _poster(web, description="Main hall", address="Station Road 1", **fields)
    assert url.startswith("https://127.0.0.1/c?v=1#")
    decoded = scan_location_url(TRACEWARN_URL_PREFIX + url.split("#", 1)[1])
    assert decoded.location.type is expected_type
    assert decoded.location.description == "Main hall"
    if transport is not None:
        got = decoded.location.transport
        assert got is not None
        assert (
            got.service,
            got.unit,
            got.service_date.isoformat() if got.service_date else "",
        ) == transport
    pdf = re.search(r'id="pdf" href="data:application/pdf;base64,([^"]+)"', html)
    png = re.search(r'id="png" href="data:image/png;base64,([^"]+)"', html)
    assert pdf is not None and base64.b64decode(pdf.group(1)).startswith(b"%PDF")
    assert png is not None and base64.b64decode(png.group(1)).startswith(b"\x89PNG")


def test_two_posters_for_the_same_place_are_different_codes(web: WebApp) -> None:
    fields = {"kind": "checkpoint", "description": "Gate A", "address": "Airport"}
    assert _poster(web, **fields)[0] != _poster(web, **fields)[0]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "venue", "venue_type": "permanent-retail", "address": "x"}, "Name is required"),
        (
            {
                "kind": "train",
                "description": "d",
                "address": "a",
                "train_service": "RE 1",
                "train_date": "2026-12-05",
            },
            "Coach is required",
        ),
        (
            {
                "kind": "flight",
                "description": "d",
                "address": "a",
                "flight_service": "LH 1",
                "flight_date": "05.12.2026",
            },
            "Service date is not a date",
        ),
        (
            {"kind": "venue", "venue_type": "train-coach", "description": "d", "address": "a"},
            "choose the kind of venue",
        ),
        (
            {
                "kind": "venue",
                "venue_type": "permanent-retail",
                "description": "d",
                "address": "a",
                "start": "2026-12-05T10:00",
            },
            "give both start and end",
        ),
        (
            {
                "kind": "venue",
                "venue_type": "permanent-retail",
                "description": "d",
                "address": "a",
                "start": "2026-12-05T10:00",
                "end": "2026-12-05T09:00",
            },
            "start-not-after-end",
        ),
        ({"kind": "boat", "description": "d", "address": "a"}, "choose what the code is for"),
    ],
)
def test_bad_forms_come_back_with_the_field_to_correct(
    web: WebApp, fields: dict[str, str], message: str
) -> None:
    response = web.client.post("/venue", data=fields)
    assert response.status_code == 400
    assert message in response.text
    assert 'id="checkin-url"' not in response.text


def test_the_server_keeps_nothing_of_a_poster(web: WebApp) -> None:
    before_tmp = set(Path(tempfile.gettempdir()).glob("tracewarn-poster-*"))
    before_files = {p for p in web.ctx.settings.data_dir.rglob("*") if p.is_file()}
    rows_before = table_rows(web.ctx.engine)
    _poster(web, kind="checkpoint", description="Secret Gate", address="Hidden Street 9")
    assert set(Path(tempfile.gettempdir()).glob("tracewarn-poster-*")) == before_tmp
    after_files = {p for p in web.ctx.settings.data_dir.rglob("*") if p.is_file()}
    assert {p.name for p in after_files - before_files} <= {"tracewarn.db-wal", "tracewarn.db-shm"}
    rows_after = table_rows(web.ctx.engine)
    # The shared rate limit counts the request (a keyed hash that changes every window, deleted
    # after it): a count of requests, not a record of the poster.
    assert rows_after.pop("rate_limit_hit") != []
    rows_before.pop("rate_limit_hit")
    assert rows_after == rows_before
    assert b"Secret Gate" not in repr(rows_after).encode()


def test_form_bodies_are_bounded_and_must_be_url_encoded(web: WebApp) -> None:
    assert web.client.post("/venue", json={"kind": "venue"}).status_code == 415
    big = web.client.post("/venue", data={"description": "x" * 20_000})
    assert big.status_code == 413
    assert big.headers["content-type"].startswith("application/problem+json")
