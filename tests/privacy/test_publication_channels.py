"""Attacks 1 and 5 of issue 10: what the published files alone give away.

The adversary reads every published package (anyone can). Holding the posters of the venues it
can decrypt check-in reports (CWA's design), so the order of reports in a warning package would
chain one person's visits. It must not: neighbours come from the same upload no more often than
by chance. And no package may belong to one or two people: every key package holds real keys of
at least ten uploads and every warning package reports of at least five.
"""

from __future__ import annotations

import math

from tracewarn.protocol.gaen import load_public_key, verify_export, verify_signed_zip
from tracewarn.protocol.presence.warning import decode_trace_warning_package
from tracewarn.server.distribution import layout
from tracewarn.server.distribution.routes import blob_name
from tracewarn.server.settings import Settings

from .conftest import Campaign, assert_chance, rows

DEFAULTS = Settings()


def _signers(campaign: Campaign) -> dict[str | tuple[str, str], object]:
    return {
        (key_id, version): load_public_key(pem.encode())
        for key_id, version, pem in rows(
            campaign, "SELECT key_id, key_version, public_key_pem FROM signing_key"
        )
    }


def _warning_packages(campaign: Campaign) -> list[list[bytes]]:
    index = layout.read_json(campaign.ctx.blobs, layout.twp_index("DE"))
    assert index, "no warning package was published"
    keys = _signers(campaign)
    out = []
    for hour in range(index["oldest"], index["latest"] + 1):
        data = campaign.ctx.blobs.get(blob_name(layout.twp_path("DE", hour)))
        assert data is not None
        package = decode_trace_warning_package(verify_signed_zip(data, keys))  # type: ignore[arg-type]
        out.append([r.mac for r in package.reports])
    return out


def _hourly_key_packages(campaign: Campaign) -> list[set[bytes]]:
    keys = _signers(campaign)
    out = []
    for name in campaign.ctx.blobs.list("version/v1/diagnosis-keys/country/DE/date/"):
        data = campaign.ctx.blobs.get(name)
        if "/hour/" in name and data is not None and data.startswith(b"PK"):
            out.append({k.key_data for k in verify_export(data, keys).export.keys})  # type: ignore[arg-type]
    return out


def test_warning_packages_do_not_chain_one_persons_visits(campaign: Campaign) -> None:
    owner = campaign.owner_of_mac()
    packages = _warning_packages(campaign)
    published = [mac for package in packages for mac in package]
    assert sorted(published) == sorted(owner), "every report is published exactly once"
    # Each package is a group: which package a report is in is the threshold's business.
    assert_chance([[owner[m] for m in p] for p in packages], "trace warning packages")


def test_every_warning_package_holds_several_uploads(campaign: Campaign) -> None:
    owner = campaign.owner_of_mac()
    sizes = [len({owner[m] for m in package}) for package in _warning_packages(campaign) if package]
    assert sizes and min(sizes) >= DEFAULTS.min_uploads_to_publish_checkins, sizes


def test_every_key_package_holds_many_uploads(campaign: Campaign) -> None:
    owner = campaign.owner_of_key()
    packages = _hourly_key_packages(campaign)
    assert packages
    published = set().union(*packages)
    assigned = {
        bytes(r[0])
        for r in rows(campaign, "SELECT key_data FROM diagnosis_key WHERE package_hour IS NOT NULL")
    }
    assert published == assigned, "exactly the keys marked published are in packages"
    # What is not published yet waits for the threshold (today's keys of the last uploads).
    held = set(owner) - published
    assert len(held) < DEFAULTS.min_keys_to_publish
    for keys in packages:
        uploads = {owner[k] for k in keys if k in owner}
        assert len([k for k in keys if k in owner]) >= DEFAULTS.min_keys_to_publish
        # 140 keys, at most 15 per upload: never fewer than 10 uploads in one package.
        assert len(uploads) >= math.ceil(
            DEFAULTS.min_keys_to_publish / DEFAULTS.max_keys_per_submission
        )


def test_key_order_in_packages_is_by_bytes(campaign: Campaign) -> None:
    keys = _signers(campaign)
    for name in campaign.ctx.blobs.list("version/v1/diagnosis-keys/country/DE/date/"):
        data = campaign.ctx.blobs.get(name)
        if data is None or not data.startswith(b"PK"):
            continue  # an index
        listed = [k.key_data for k in verify_export(data, keys).export.keys]  # type: ignore[arg-type]
        assert listed == sorted(listed)
