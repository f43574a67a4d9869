"""Docs, docstrings and comments cite public specifications, never a folder outside the repo."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRIVATE = re.compile(
    r"shared/specs|(?:cwa-risk-and-checkins|gaen|simulator-model|simulation-and-performance)\.md"
)


def test_no_citation_of_the_private_spec_folder() -> None:
    offenders = []
    for folder in ("src", "docs", "tests", "bench", "scripts"):
        for path in (ROOT / folder).rglob("*"):
            if (
                path.suffix not in {".py", ".md", ".proto", ".toml", ".txt"}
                or ".venv" in path.parts
            ):
                continue
            if path == Path(__file__):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if PRIVATE.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    offenders += [f"README.md: {m.group(0)}" for m in PRIVATE.finditer(readme)]
    assert offenders == []


def test_every_cited_anchor_exists() -> None:
    anchors = set(re.findall(r"^## (\S+)$", (ROOT / "docs/specifications.md").read_text(), re.M))
    cited = set()
    for folder in ("src", "docs", "tests"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in {".py", ".md", ".proto"}:
                cited |= set(re.findall(r"specifications\.md#([a-z-]+)", path.read_text("utf-8")))
    assert cited and cited <= anchors, cited - anchors
