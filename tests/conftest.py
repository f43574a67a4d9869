"""Shared fixtures: the published vectors in ../shared/vectors and the PostgreSQL URL."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Tests never assert timings (the machine may be busy): Hypothesis' per-example deadline is a
# timing assertion, so it is off for every property test.
settings.register_profile("tracewarn", deadline=None)
settings.load_profile("tracewarn")

REPO = Path(__file__).resolve().parents[1]
# CI clones the repo with shared/ beside it; TRACEWARN_SHARED_DIR points elsewhere if needed.
SHARED = Path(os.environ.get("TRACEWARN_SHARED_DIR", REPO.parent / "shared"))
VECTORS = SHARED / "vectors"


def vector_path(*parts: str) -> Path:
    """Path of a published vector file, or skip the test saying where it was looked for."""
    path = VECTORS.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"published vector {path} is absent; put the shared/ folder beside the repository "
            "or set TRACEWARN_SHARED_DIR to run this test"
        )
    return path


def load_vector_json(*parts: str) -> Any:
    return json.loads(vector_path(*parts).read_text(encoding="utf-8"))


POSTGRES_URL = os.environ.get("TRACEWARN_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: SQLite in tmp_path, and PostgreSQL when one is configured."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracewarn.db'}"
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL tests need TRACEWARN_TEST_POSTGRES_URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/tracewarn_test (.ci/run sets it)"
        )
    return _fresh_postgres_schema(POSTGRES_URL)


def _fresh_postgres_schema(url: str) -> str:
    """Drop and recreate the public schema so every test starts from an empty database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url
