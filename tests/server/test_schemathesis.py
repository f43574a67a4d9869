"""Property-based API testing from the OpenAPI document: no input produces a 5xx.

Bounded: a fixed number of examples per operation, in-process through ASGI (no ports), on both
databases. Strategies come from schemathesis; hypothesis drives them inside an ordinary test
because schemathesis' lazy fixture loader does not work with this pytest version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracewarn.server import Settings, create_app

pytestmark = pytest.mark.slow
EXAMPLES_PER_OPERATION = 40


def test_no_input_causes_a_server_error(database_url: str, tmp_path: Path) -> None:
    app = create_app(
        Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            rate_limit_per_client=10**6,
            rate_limit_global=10**6,
            teletans_per_hour=10**6,
        )
    )
    from tracewarn.server.distribution.signing import create_signing_key

    ctx = app.state.ctx
    with ctx.sessions.begin() as session:  # a healthy server: /healthz answers 200, not 503
        create_signing_key(session, ctx, region="DE")
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 8
        for operation in operations:
            _fuzz(operation)
    finally:
        app.state.ctx.engine.dispose()


def _fuzz(operation: Any) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy(), _=st.just(None))
    def run(case: Any, _: None) -> None:
        response = case.call()
        assert response.status_code < 500, (
            operation.label,
            response.status_code,
            response.text[:300],
        )
        if response.status_code >= 400:
            assert response.headers["content-type"][0].startswith("application/problem+json"), (
                operation.label,
                response.text[:200],
            )

    run()
