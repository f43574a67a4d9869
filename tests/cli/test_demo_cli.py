"""`tracewarn showcase`: the protocol showcase runs end to end and stays hidden."""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from tracewarn.cli import app
from tracewarn.commands._showcase import run_showcase

runner = CliRunner()


def test_showcase_command_runs_every_step() -> None:
    result = runner.invoke(app, ["showcase"])
    assert result.exit_code == 0, result.output
    for step in ("1. ", "2. ", "3. ", "4. ", "5. "):
        assert step in result.output
    assert "the uploaded key is among them" in result.output
    assert "1 key matches" in result.output


def test_showcase_stays_a_hidden_command_beside_demo() -> None:
    # `demo` became the town demo (its own tests); the showcase must stay callable but unlisted.
    listing = runner.invoke(app, ["--help"]).output
    assert "│ demo " in listing
    assert "│ showcase " not in listing


def test_showcase_is_reproducible_with_pinned_randomness() -> None:
    def run() -> tuple[object, list[str]]:
        lines: list[str] = []
        result = run_showcase(
            now=1_700_000_000,
            random_bytes=np.random.default_rng(3).bytes,
            signing_key=ec.derive_private_key(11, ec.SECP256R1()),
            echo=lines.append,
        )
        return result, lines

    first, second = run(), run()
    assert first == second
    result = first[0]
    assert result.key_found and result.tampered_rejected  # type: ignore[attr-defined]
    assert 1000 <= result.keys_in_file <= 1100  # type: ignore[attr-defined]
