"""Running the real `tracewarn` entry point in-process, as the CLI tests do."""

from __future__ import annotations

import sys

import pytest

from tracewarn.cli import main


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """The real entry point, which turns typed errors into one stderr line and exit code 2."""
    monkeypatch.setattr(sys, "argv", ["tracewarn", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    code = exit_info.value.code
    return code if isinstance(code, int) else 1
