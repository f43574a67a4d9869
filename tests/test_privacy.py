"""Privacy: after a demo run the backend holds nothing that identifies a person or links uploads.

Everything the server kept is searched: every value of every table of its database (and the raw
file), its log, and every file it published. None may contain a phone's identifier or local key,
any key of a phone that did not report, a place name, an address, a location id (only its hash
may appear), a QR code, or an IP address. Then a second person reports, and no stored value of
the second upload may equal one of the first: nothing links two uploads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tracewarn.device import ManualClock, SeededRandomness, VirtualDevice
from tracewarn.sim._server import demo_backend
from tracewarn.sim.demo import DemoConfig, demo_clock, run_demo
from tracewarn.sim.population import place_qr_urls
from tracewarn.sim.town import CHECK_IN_SETTINGS, build_town

CONFIG = DemoConfig(seed=5, devices=30, days=3)
_IDENTIFYING_COLUMN_WORDS = {
    "ip", "addr", "address", "device", "client", "user", "session", "phone", "agent", "person",
    "name", "email", "msisdn", "contact", "lat", "lon", "gps",
}  # fmt: skip


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("privacy")
    clock = demo_clock(CONFIG)
    with demo_backend(
        work / "server", clock, loopback=False, log_path=work / "server.log"
    ) as backend:
        summary = run_demo(CONFIG, backend, clock, work)
        yield {"summary": summary, "work": work, "backend": backend, "clock": clock}


def _database_values(backend: Any) -> dict[str, list[tuple[Any, ...]]]:
    engine = backend.app.state.ctx.engine
    out = {}
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            out[table] = [tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{table}"'))]
    return out


def _haystacks(audit: dict[str, Any]) -> list[tuple[str, bytes]]:
    work: Path = audit["work"]
    hay = [(str(p), p.read_bytes()) for p in (work / "server").rglob("*") if p.is_file()]
    hay.append(("server.log", (work / "server.log").read_bytes()))
    for table, rows in _database_values(audit["backend"]).items():
        for row in rows:
            for value in row:
                data = value if isinstance(value, bytes) else str(value).encode()
                hay.append((f"table {table}", data))
    return hay


def _needles(audit: dict[str, Any]) -> list[tuple[str, bytes]]:
    work: Path = audit["work"]
    case = audit["summary"]["case"]["person"]
    town = build_town(CONFIG.town(), CONFIG.seed)
    needles: list[tuple[str, bytes]] = [("IP address", b"127.0.0.1")]
    for place in town.places:
        if place.setting in CHECK_IN_SETTINGS:
            needles += [("place name", place.description.encode())]
            needles += [("address", place.address.encode())]
            needles += [("address word", place.address.split(",")[0].encode())]
    for day in range(CONFIG.days):
        for url in place_qr_urls(town, day).values():
            needles.append(("QR code", url.split("#", 1)[1].encode()))
    clock = ManualClock(dt.datetime.fromisoformat(audit["summary"]["timeline"]["sync"]))
    for person in range(CONFIG.devices):
        folder = work / "phones" / f"phone-{person:04d}"
        needles += [("phone folder", folder.name.encode()), ("label", f"P{person:03d}".encode())]
        needles.append(("device key", (folder / "device.key").read_bytes()))
        device = VirtualDevice.open(folder, clock=clock, randomness=SeededRandomness(0, "audit"))
        try:
            needles += [("location id", c.location_id) for c in device.store.check_ins()]
            if person != case:
                needles += [("unreported key", t.key_data) for t in device.store.teks()]
        finally:
            device.close()
    return needles


def test_the_backend_keeps_nothing_identifying(audit: dict[str, Any]) -> None:
    hay = _haystacks(audit)
    assert any("diagnosis_key" in where for where, _ in hay)  # the search did see the upload
    for what, needle in _needles(audit):
        for where, data in hay:
            assert needle not in data, f"{what} {needle[:40]!r} found in {where}"


def test_no_table_has_a_column_that_could_identify_someone(audit: dict[str, Any]) -> None:
    engine = audit["backend"].app.state.ctx.engine
    for table in sa.inspect(engine).get_table_names():
        for column in sa.inspect(engine).get_columns(table):
            words = set(column["name"].lower().split("_"))
            assert not words & _IDENTIFYING_COLUMN_WORDS, f"{table}.{column['name']}"


def test_nothing_links_two_uploads(audit: dict[str, Any]) -> None:
    backend, clock = audit["backend"], audit["clock"]
    before = _database_values(backend)
    summary = audit["summary"]
    second = next(
        p["person"] for p in summary["people"] if p["level"] == "high" and p["truth"]["met_case"]
    )
    device = VirtualDevice.open(
        audit["work"] / "phones" / f"phone-{second:04d}",
        clock=clock,
        randomness=SeededRandomness(CONFIG.seed, f"device/{second}/again"),
    )
    clock.set(dt.datetime.fromisoformat(summary["timeline"]["sync"]) + dt.timedelta(hours=1))
    code = backend.client.post(
        "/version/v1/lab/results",
        json={"result": "positive"},
        headers={"X-API-Key": backend.lab_key},
    ).json()["code"]
    device.report(backend.client, guid=code)
    device.close()
    # The upload waits in the staging area until the publisher moves it (docs/privacy.md).
    backend.publish(int(clock.now().timestamp()))
    after = _database_values(backend)

    # A place's location-id hash is the same in every upload that mentions the place: that is
    # the protocol (CWA event registration [docs/specifications.md#cwa-events] lists venue profiling; hosts rotate their codes). It says "both
    # visited this place", never "same person", so it is left out of the comparison.
    first_values: set[bytes] = set()
    second_values: set[bytes] = set()
    for table, rows in after.items():
        columns = [c["name"] for c in sa.inspect(backend.app.state.ctx.engine).get_columns(table)]
        old = set(before.get(table, []))
        for row in rows:
            target = first_values if row in old else second_values
            target.update(
                value
                for column, value in zip(columns, row, strict=True)
                if isinstance(value, bytes) and len(value) >= 8 and column != "location_id_hash"
            )
    assert second_values, "the second upload stored nothing"
    assert not first_values & second_values
    new_keys = set(after["diagnosis_key"]) - set(before["diagnosis_key"])
    assert new_keys, "the second upload's keys are stored"
