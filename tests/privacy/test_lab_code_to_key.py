"""No path from a lab's code to a key: the adversary holds the database, the server secret and
the lab's list of codes (which patient got which code), and tries to find each patient's keys.

Every link the old storage kept is checked: the token's `test_code_id`, second-precise times,
PostgreSQL transaction ids shared between the verification rows and the published rows, and
the staging rows. What remains is the hour, which the batches make shared by many uploads
(tests/privacy/test_storage_order.py measures the groups).
"""

from __future__ import annotations

from .conftest import Campaign, rows

TIME_COLUMNS = {
    "api_key": ("created_at",),
    "test_code": ("created_at", "expires_at"),
    "teletan": ("created_at", "expires_at"),
    "registration_token": ("created_at", "expires_at"),
    "tan": ("created_at", "expires_at"),
}


def test_no_token_keeps_its_test(campaign: Campaign) -> None:
    linked = rows(
        campaign, "SELECT count(*) FROM registration_token WHERE test_code_id IS NOT NULL"
    )
    tokens = rows(campaign, "SELECT count(*) FROM registration_token WHERE tans_issued > 0")
    assert tokens[0][0] >= len(campaign.uploads)
    assert linked[0][0] == 0


def test_the_codes_are_found_but_lead_nowhere(campaign: Campaign) -> None:
    """The adversary does find each code's row (it holds the secret) ..."""
    found = 0
    for upload in campaign.uploads:
        import hashlib

        digest = campaign.ctx.box.mac("guid", hashlib.sha256(upload.code.encode()).hexdigest())
        found += len(rows(campaign, "SELECT id FROM test_code WHERE code_hmac = :d", d=digest))
    assert found == len(campaign.uploads)
    # ... but no column of any table names a test code, token or TAN next to a key or report.
    for table in ("diagnosis_key", "checkin_report"):
        columns = {r[0] for r in _columns(campaign, table)}
        assert not {c for c in columns if "code" in c or "token" in c or c == "tan"}, columns


def test_no_time_is_stored_to_the_second(campaign: Campaign) -> None:
    for table, columns in TIME_COLUMNS.items():
        for column in columns:
            bad = rows(campaign, f"SELECT count(*) FROM {table} WHERE {column} % 3600 <> 0")
            assert bad[0][0] == 0, f"{table}.{column} holds times finer than the hour"


def test_no_transaction_id_joins_verification_and_published_rows(campaign: Campaign) -> None:
    if campaign.dialect != "postgresql":
        return  # SQLite has no transaction ids in rows; its file is checked in test_storage_order
    verification = {
        int(r[0])
        for table in ("test_code", "registration_token", "tan")
        for r in rows(campaign, f"SELECT xmin::text::bigint FROM {table}")
    }
    published = {
        int(r[0])
        for table in ("diagnosis_key", "checkin_report")
        for r in rows(campaign, f"SELECT xmin::text::bigint FROM {table}")
    }
    assert published and not verification & published
    # nor are they adjacent (an upload's transaction used to follow its TAN's by one)
    assert not {x + 1 for x in verification} & published


def _columns(campaign: Campaign, table: str) -> list[tuple[str]]:
    import sqlalchemy as sa

    return [(c["name"],) for c in sa.inspect(campaign.ctx.engine).get_columns(table)]
