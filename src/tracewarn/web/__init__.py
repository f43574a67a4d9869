"""Printable and browser-facing output at the edge of the system (I/O; never imported by protocol)."""

from tracewarn.web.poster import PosterFiles, poster_instructions, qr_matrix, write_poster

__all__ = ["PosterFiles", "poster_instructions", "qr_matrix", "write_poster"]
