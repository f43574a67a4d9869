"""Attack 2 of issue 10: the database's order says which keys and reports are one upload.

The adversary holds the database (on SQLite the file and its WAL). It orders rows the way the
storage does (SQLite rowid or b-tree order, PostgreSQL heap order `ctid`) and groups them by
transaction (`xmin`), and hopes one upload's rows sit together. They must not: neighbours come
from the same upload no more often than in a random order, and every transaction holds many
uploads.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tracewarn.server.settings import Settings

from .conftest import Campaign, assert_chance, rows, storage_order

MIN_BATCH = Settings().min_uploads_per_batch


def test_the_campaign_is_large_enough(campaign: Campaign) -> None:
    assert len(campaign.uploads) >= 50
    assert sum(not f.real for f in campaign.flows) >= 50
    assert all(u.keys for u in campaign.uploads)
    assert sum(bool(u.macs) for u in campaign.uploads) >= 50  # uploads with check-ins


def test_key_storage_order_is_random(campaign: Campaign) -> None:
    groups = storage_order(campaign, "diagnosis_key", "key_data", campaign.owner_of_key())
    assert sum(o is not None for g in groups for o in g) >= len(campaign.uploads) * 5
    assert_chance(groups, "diagnosis_key in storage order")


def test_report_storage_order_is_random(campaign: Campaign) -> None:
    owner = campaign.owner_of_mac()
    groups = storage_order(campaign, "checkin_report", "mac", owner)
    assert sum(map(len, groups)) == sum(len(u.macs) for u in campaign.uploads)
    assert_chance(groups, "checkin_report in storage order")
    # and by id, the order an attacker would try next
    by_id = [
        owner.get(bytes(r[0])) for r in rows(campaign, "SELECT mac FROM checkin_report ORDER BY id")
    ]
    assert_chance([by_id], "checkin_report by id")


def test_sqlite_tables_have_no_rowid(campaign: Campaign) -> None:
    if campaign.dialect != "sqlite":
        pytest.skip("rowids are SQLite's")
    for table in ("diagnosis_key", "checkin_report", "staged_upload"):
        with pytest.raises(sa.exc.OperationalError):
            rows(campaign, f"SELECT rowid FROM {table}")


def test_every_transaction_holds_many_uploads(campaign: Campaign) -> None:
    if campaign.dialect != "postgresql":
        pytest.skip("xmin is PostgreSQL's")
    keys, macs = campaign.owner_of_key(), campaign.owner_of_mac()
    groups: dict[int, set[int]] = {}
    for xmin, key in rows(campaign, "SELECT xmin::text::bigint, key_data FROM diagnosis_key"):
        if bytes(key) in keys:
            groups.setdefault(int(xmin), set()).add(keys[bytes(key)])
    for xmin, mac in rows(campaign, "SELECT xmin::text::bigint, mac FROM checkin_report"):
        groups.setdefault(-int(xmin), set()).add(macs[bytes(mac)])
    assert groups
    assert min(len(g) for g in groups.values()) >= MIN_BATCH, sorted(map(len, groups.values()))


def test_wal_and_file_keep_no_upload_together(campaign: Campaign) -> None:
    if campaign.dialect != "sqlite":
        pytest.skip("the WAL and file layout checked here are SQLite's")
    assert campaign.staged_pattern_seen, "control: a staged upload is visible before its batch"
    assert campaign.wal_sizes_after_publish and set(campaign.wal_sizes_after_publish) == {0}
    raw = b"".join(campaign.files.values())
    assert not [u for u in campaign.uploads if u.staged_pattern in raw]
    tan_macs = [campaign.ctx.box.mac("tan", u.tan) for u in campaign.uploads]
    assert not [m for m in tan_macs if m in raw], "a redeemed TAN is still in the file"


def test_no_staging_row_outlives_its_batch(campaign: Campaign) -> None:
    assert rows(campaign, "SELECT count(*) FROM staged_upload")[0][0] == 0


def test_stored_fields_do_not_group_one_uploads_keys(campaign: Campaign) -> None:
    """Days since onset is gone; every remaining combination of per-key metadata the database
    keeps (release hour, package hour, federation fields, and on PostgreSQL the transaction) is
    shared by many uploads."""
    names = {c["name"] for c in sa.inspect(campaign.ctx.engine).get_columns("diagnosis_key")}
    assert not {"days_since_onset_of_symptoms", "submission_hour", "created_at"} & names
    owner = campaign.owner_of_key()
    xmin = ", xmin::text::bigint" if campaign.dialect == "postgresql" else ""
    groups: dict[tuple[object, ...], set[int]] = {}
    for row in rows(
        campaign,
        "SELECT key_data, release_hour, package_hour, consent_to_federation, "
        f"visited_countries, submission_type{xmin} FROM diagnosis_key",
    ):
        if bytes(row[0]) in owner:
            groups.setdefault(tuple(row[1:]), set()).add(owner[bytes(row[0])])
    assert min(len(g) for g in groups.values()) >= MIN_BATCH, sorted(map(len, groups.values()))
