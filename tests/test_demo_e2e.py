"""The town demo end to end at small size: the right people get the right warnings.

Runs the real backend in-process (no ports), a 40-person town for 3 days, one positive case,
then checks each phone's own conclusion against the town's ground truth.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracewarn.device import DeviceStore, ManualClock, SystemRandomness
from tracewarn.device._sync import stored_check_ins
from tracewarn.protocol.gaen import load_public_key, verify_signed_zip
from tracewarn.protocol.presence import check_in_risk, decode_trace_warning_package
from tracewarn.protocol.risk import CWA_SCALE
from tracewarn.sim._server import demo_backend
from tracewarn.sim.demo import DemoConfig, demo_clock, run_demo

CONFIG = DemoConfig(seed=4, devices=40, days=3)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("demo")
    clock = demo_clock(CONFIG)
    with demo_backend(work / "server", clock, loopback=False) as backend:
        summary = run_demo(CONFIG, backend, clock, work)
        reports = _published_reports(backend.client)
    return {"summary": summary, "work": work, "reports": reports}


def _published_reports(client: Any) -> list[Any]:
    document = client.get("/version/v1/signing-keys").json()
    keys: dict[str | tuple[str, str], Any] = {
        (k["keyId"], k["keyVersion"]): load_public_key(k["publicKeyPem"].encode())
        for k in document["keys"]
        if k["region"] == "DE"
    }
    index = client.get("/version/v2/twp/country/DE/hour").json()
    reports = []
    for hour in range(index["oldest"], index["latest"] + 1):
        data = client.get(f"/version/v2/twp/country/DE/hour/{hour}").content
        reports.extend(decode_trace_warning_package(verify_signed_zip(data, keys)).reports)
    return reports


def test_the_story_happened(run: dict[str, Any]) -> None:
    summary = run["summary"]
    assert summary["case"]["uploaded_keys"] >= CONFIG.days
    assert summary["case"]["uploaded_check_ins"] >= 1
    assert summary["ground_truth"]["close_contacts"] >= 3
    assert summary["ground_truth"]["place_contacts"] >= 1
    assert sum(summary["levels"].values()) == CONFIG.devices - 1
    assert summary["levels"]["failed"] == 0
    assert summary["traffic"]["fake_uploads"] >= 1


def test_close_contacts_of_the_case_get_a_high_warning(run: dict[str, Any]) -> None:
    close = [p for p in run["summary"]["people"] if p["truth"]["close"]]
    assert close
    for person in close:
        assert person["level"] == "high", person
        assert "proximity" in person["source"] or person["check_in_level"] == "high", person
        # The warning names a day on which they really met the case.
        met_days = {
            CONFIG.start + dt.timedelta(days=int(d)) for d in person["truth"]["nearby_minutes"]
        }
        place_days = {
            CONFIG.start + dt.timedelta(days=d) for d in person["truth"]["same_place_days"]
        }
        assert dt.date.fromisoformat(person["date"]) in met_days | place_days


def test_people_who_never_met_the_case_nor_shared_a_place_get_nothing(run: dict[str, Any]) -> None:
    summary = run["summary"]
    listed = {p["person"]: p for p in summary["people"]}
    case = summary["case"]["person"]
    strangers = [i for i in range(CONFIG.devices) if i != case and i not in listed]
    assert len(strangers) >= 5
    # Unlisted people had no warning (the summary lists everyone with a warning) ...
    assert summary["levels"]["none"] >= len(strangers)
    # ... and every listed person with a warning met the case or shared one of their places.
    for person in listed.values():
        if person["level"] != "none":
            assert person["truth"]["met_case"] or person["truth"]["same_place_days"], person


def test_check_in_overlaps_get_the_level_presence_risk_gives(run: dict[str, Any]) -> None:
    summary, reports = run["summary"], run["reports"]
    assert reports
    now = int(dt.datetime.fromisoformat(summary["timeline"]["sync"]).timestamp())
    clock = ManualClock(dt.datetime.fromtimestamp(now, tz=dt.UTC))
    checked = 0
    for person in summary["people"]:
        if not (person["truth"]["shared_place"] or person["check_in_level"] != "none"):
            continue
        store = DeviceStore.open(
            run["work"] / "phones" / f"phone-{person['person']:04d}",
            clock=clock,
            randomness=SystemRandomness(),
        )
        try:
            expected = check_in_risk(stored_check_ins(store), reports, now)
        finally:
            store.close()
        level = "none" if not expected.per_day else CWA_SCALE.name(expected.total).lower()  # type: ignore[arg-type]
        assert person["check_in_level"] == level, person
        if person["truth"]["shared_place"] and max(person["truth"]["place_minutes"].values()) >= 20:
            assert level == "high", person  # 20+ minutes at TRL >= 3 reach CWA's threshold of 10
        checked += 1
    assert checked >= 1


def test_precision_and_recall_are_counted_from_the_table(run: dict[str, Any]) -> None:
    summary = run["summary"]
    people = summary["people"]
    exposed = {p["person"] for p in people if p["truth"]["exposed"]}
    high = {p["person"] for p in people if p["level"] == "high"}
    metrics = summary["metrics"]["high"]
    assert metrics["true_positives"] == len(exposed & high)
    assert metrics["false_positives"] == len(high - exposed)
    assert metrics["false_negatives"] == len(exposed - high)


def test_same_seed_same_summary(tmp_path: Path) -> None:
    config = DemoConfig(seed=9, devices=16, days=2)

    def once(name: str) -> str:
        clock = demo_clock(config)
        with demo_backend(tmp_path / name / "server", clock, loopback=False) as backend:
            return json.dumps(run_demo(config, backend, clock, tmp_path / name), sort_keys=True)

    assert once("a") == once("b")


@pytest.mark.slow
def test_the_demo_command_on_loopback(tmp_path: Path) -> None:
    from tracewarn.cli import app

    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["demo", "--seed", "2", "--devices", "20", "--days", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "precision" in result.output and "Who was warned" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["devices"] == 20 and summary["seed"] == 2
    assert (out / "timeline.png").read_bytes().startswith(b"\x89PNG")


def test_the_demo_command_rejects_bad_sizes(tmp_path: Path) -> None:
    from tracewarn.cli import app
    from tracewarn.commands._common import BadInput

    for args in (["--devices", "1"], ["--days", "0"], ["--days", "40"], ["--seed", "-1"]):
        result = CliRunner().invoke(app, ["demo", *args, "--out", str(tmp_path)])
        assert isinstance(result.exception, BadInput), (args, result.output)
