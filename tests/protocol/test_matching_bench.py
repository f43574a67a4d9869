"""The matching benchmark runs and reports every figure the issue asks for (no timing asserts)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

REQUIRED = {
    "keys_per_s",
    "baseline_a_keys_per_s",
    "baseline_b_keys_per_s",
    "ratio_vs_a",
    "ratio_vs_b",
    "national_seconds",
    "peak_rss_mb",
}


def test_quick_bench_prints_one_json_line_with_all_figures() -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "matching.py"), "--quick", "--rounds", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=REPO,
    )
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(figures) >= REQUIRED
    # The planted keys are found by every path, so the speeds compare working matchers.
    assert figures["matched_keys"] == figures["planted_keys"] > 0
    assert figures["national_matched_keys"] == figures["national_planted_keys"] > 0
    assert figures["baseline_a_hits"] > 0
