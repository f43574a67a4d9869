"""Printable check-in posters: an A4 PDF and a PNG with the QR code, the place and instructions.

This is the I/O edge of presence tracing: the protocol builds the URL, this module draws it.
segno makes the QR matrix (error correction Q, so a poster still scans with a quarter of it
scuffed or taped over); matplotlib lays out the page without pyplot, so nothing global changes and
no display is needed. The QR code is drawn as one image with nearest-neighbour sampling, so every
module is a crisp square at any print size.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass
from pathlib import Path

from tracewarn.protocol.presence import LocationType, TraceLocation

__all__ = ["PosterFiles", "poster_instructions", "qr_matrix", "write_poster"]

_A4_INCHES = (8.27, 11.69)
_PNG_DPI = 150
_QR_BORDER = 4  # the quiet zone the QR standard requires, in modules
_INSTRUCTIONS_HEIGHT = 0.2  # page fraction kept below the code for instructions and footer

_TYPE_LABELS = {
    LocationType.TRAIN_COACH: "Train coach",
    LocationType.FLIGHT: "Flight",
    LocationType.BUS: "Bus",
    LocationType.CHECKPOINT: "Checkpoint",
}


@dataclass(frozen=True, slots=True)
class PosterFiles:
    """The files written, and where the QR code (quiet zone included) sits in the PNG, in pixels."""

    pdf: Path
    png: Path
    qr_box_png: tuple[int, int, int, int]  # left, top, right, bottom


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR code of `url` with its quiet zone, True for a dark module (row by row)."""
    import segno

    code = segno.make(url, error="q", micro=False)
    return [[bool(cell) for cell in row] for row in code.matrix_iter(border=_QR_BORDER)]


def _type_label(location_type: LocationType) -> str:
    label = _TYPE_LABELS.get(location_type)
    if label is not None:
        return label
    words = location_type.name.removeprefix("PERMANENT_").removeprefix("TEMPORARY_")
    return words.replace("_", " ").capitalize()


def _utc(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def poster_instructions(location: TraceLocation) -> list[str]:
    """The short how-to printed under the code; transport codes mention the automatic check-out."""
    lines = [
        "1. Open your exposure-notification app (tracewarn or Corona-Warn-App) and scan this code.",
        "2. Your check-in stays on your phone. Nobody keeps a guest list.",
        "3. If someone who was here at the same time tests positive and shares their check-ins,"
        " your phone warns you. Nobody else learns who was here.",
    ]
    if location.type.is_transport and location.end_timestamp:
        lines.append(
            f"You are checked out automatically at arrival ({_utc(location.end_timestamp)})."
        )
    elif location.default_check_in_length_minutes:
        minutes = location.default_check_in_length_minutes
        lines.append(
            f"You are checked out automatically after {minutes} minutes unless you leave earlier."
        )
    return lines


def _heading_lines(location: TraceLocation) -> list[str]:
    lines = [_type_label(location.type)]
    transport = location.transport
    if transport is not None:
        detail = transport.service
        if transport.unit:
            detail += f", {'coach' if location.type is LocationType.TRAIN_COACH else 'unit'} {transport.unit}"
        if transport.service_date is not None:
            detail += f", {transport.service_date.isoformat()}"
        lines.append(detail)
    if not location.is_permanent:
        lines.append(f"{_utc(location.start_timestamp)} to {_utc(location.end_timestamp)}")
    return lines


def write_poster(location: TraceLocation, url: str, out: Path) -> PosterFiles:
    """Write `out` (PDF, A4 portrait) and the same page as a PNG beside it (`out` with `.png`)."""
    import numpy as np
    from matplotlib.figure import Figure

    matrix = np.array(qr_matrix(url), dtype=float)
    figure = Figure(figsize=_A4_INCHES)
    figure.text(0.5, 0.945, "Check in here", ha="center", va="center", fontsize=30, weight="bold")
    y = 0.895
    # Up to 255 characters each (the scan rules' limit): long texts get a smaller font rather than
    # being cut, since a poster that hides part of the place name would mislead.
    desc_size, desc_width = (20, 44) if len(location.description) <= 120 else (14, 66)
    for line in textwrap.wrap(location.description, desc_width):
        figure.text(0.5, y, line, ha="center", va="center", fontsize=desc_size, weight="bold")
        y -= 0.03 if desc_size == 20 else 0.022
    for line in textwrap.wrap(location.address, 80):
        figure.text(0.5, y, line, ha="center", va="center", fontsize=12)
        y -= 0.02
    for line in _heading_lines(location):
        figure.text(0.5, y, line, ha="center", va="center", fontsize=11, color="#444444")
        y -= 0.02

    # A square QR code centred below the text, at most 0.62 of the page width (about 13 cm),
    # smaller only when long texts leave less room above the instructions.
    room = y - 0.01 - _INSTRUCTIONS_HEIGHT
    side = min(0.62, room * _A4_INCHES[1] / _A4_INCHES[0])
    height = side * _A4_INCHES[0] / _A4_INCHES[1]
    axes = figure.add_axes((0.5 - side / 2, y - 0.01 - height, side, height))
    axes.imshow(1.0 - matrix, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_axis_off()

    y = y - 0.04 - height
    for paragraph in poster_instructions(location):
        for line in textwrap.wrap(paragraph, 88):
            figure.text(0.08, y, line, ha="left", va="center", fontsize=10.5)
            y -= 0.019
        y -= 0.006
    footer = (
        "Privacy: the code holds the place and times printed above and a random number, nothing"
        " about you. Check-ins stay on phones; warnings are matched there."
    )
    for offset, line in enumerate(textwrap.wrap(footer, 110)):
        figure.text(
            0.5,
            0.035 - offset * 0.013,
            line,
            ha="center",
            va="center",
            fontsize=7.5,
            color="#666666",
        )

    out = Path(out)
    png = out.with_suffix(".png")
    metadata = {"Title": f"Check-in poster: {location.description}", "Creator": "tracewarn"}
    figure.savefig(out, format="pdf", metadata=metadata)
    figure.savefig(png, format="png", dpi=_PNG_DPI)
    width_px, height_px = (round(v * _PNG_DPI) for v in _A4_INCHES)
    left, bottom, ax_width, ax_height = axes.get_position().bounds
    box = (
        round(left * width_px),
        round((1 - bottom - ax_height) * height_px),
        round((left + ax_width) * width_px),
        round((1 - bottom) * height_px),
    )
    return PosterFiles(pdf=out, png=png, qr_box_png=box)
