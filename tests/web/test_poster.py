"""Posters: a PDF and a PNG whose QR code is exactly the location's URL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tracewarn.protocol.presence import (
    LocationType,
    TraceLocation,
    location_url,
    scan_location_url,
    train_coach_location,
)
from tracewarn.web import poster_instructions, qr_matrix, write_poster


@pytest.fixture(scope="module")
def coach() -> TraceLocation:
    return train_coach_location(
        "ICE 597",
        "7",
        dt.date(2026, 11, 29),
        seed=b"7" * 16,
        departure=1_795_000_000,
        arrival=1_795_010_000,
    )


def test_pdf_and_png_are_written(tmp_path: Path, coach: TraceLocation) -> None:
    files = write_poster(coach, location_url(coach), tmp_path / "poster.pdf")
    assert files.pdf.read_bytes().startswith(b"%PDF-")
    assert b"Check-in poster: ICE 597, coach 7" in files.pdf.read_bytes()
    assert files.png == tmp_path / "poster.png"
    assert files.png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


LONG = TraceLocation(
    description=("Kulturzentrum am Alten Markt, großer Saal im Obergeschoss, " * 5)[:255],
    address=("Am Alten Markt 12-14, Hinterhof, Eingang links neben dem Café, " * 5)[:255],
    type=LocationType.TEMPORARY_CULTURAL_EVENT,
    cryptographic_seed=b"L" * 16,
    start_timestamp=1_795_000_000,
    end_timestamp=1_795_010_000,
)


@pytest.mark.parametrize("kind", ["coach", "longest texts"])
def test_png_shows_exactly_the_qr_code_of_the_url(
    tmp_path: Path, coach: TraceLocation, kind: str
) -> None:
    import numpy as np
    from matplotlib.image import imread

    location = coach if kind == "coach" else LONG
    url = location_url(location)
    files = write_poster(location, url, tmp_path / "poster.pdf")
    image = imread(files.png)
    gray = image[..., :3].mean(axis=2)
    left, top, right, bottom = files.qr_box_png
    expected = qr_matrix(url)
    n = len(expected)
    step_x = (right - left) / n
    step_y = (bottom - top) / n
    sampled = [
        [
            bool(gray[int(top + (r + 0.5) * step_y), int(left + (c + 0.5) * step_x)] < 0.5)
            for c in range(n)
        ]
        for r in range(n)
    ]
    assert sampled == expected
    # The matrix itself carries the quiet zone: four light modules on every side.
    grid = np.array(expected)
    assert not grid[:4].any() and not grid[-4:].any()
    assert not grid[:, :4].any() and not grid[:, -4:].any()
    assert grid[4, 4:11].all()  # top edge of the top-left finder pattern
    assert scan_location_url(url).location == location


def test_instructions() -> None:
    venue = TraceLocation(
        "Bakery",
        "Main Street 1",
        LocationType.PERMANENT_RETAIL,
        b"s" * 16,
        default_check_in_length_minutes=30,
    )
    lines = poster_instructions(venue)
    assert any("scan this code" in line for line in lines)
    assert any("after 30 minutes" in line for line in lines)


def test_transport_instructions_mention_arrival(coach: TraceLocation) -> None:
    assert any("at arrival" in line for line in poster_instructions(coach))
