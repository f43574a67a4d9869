"""The demo's story: verdict labels, the false-alarm reason, an 80-column table, and a timeline
that shows everyone warned or exposed."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from tracewarn.sim.story import VERDICTS, false_alarm_reason, verdict


def _person(label: str, level: str, exposed: bool, housemate: bool = False) -> dict[str, Any]:
    return {
        "label": label,
        "household": "H001",
        "housemate_of_case": housemate,
        "level": level,
        "date": "2026-11-03" if level != "none" else None,
        "source": "proximity" if level != "none" else "",
        "truth": {
            "exposed": exposed,
            "met_case": True,
            "close": exposed,
            "shared_place": False,
            "close_minutes": {"1": 30} if exposed else {},
            "nearby_minutes": {} if exposed else {"1": 30, "2": 20},
            "place_minutes": {},
            "total_close_minutes": 30 if exposed else 0,
            "settings": ["home"] if housemate else ["canteen"],
            "intervals": [[1500, 1530, "close" if exposed else "near"]],
        },
    }


def _summary(people: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "seed": 3,
        "days": 2,
        "dates": ["2026-11-02", "2026-11-03"],
        "devices": len(people) + 1,
        "case": {
            "label": "P000",
            "role": "worker",
            "symptom_onset": "2026-11-02",
            "uploaded_keys": 3,
            "uploaded_check_ins": 1,
        },
        "people": people,
    }


@pytest.mark.parametrize(
    ("level", "exposed", "housemate", "expected"),
    [
        ("high", True, False, "right"),
        ("high", False, True, "housemate"),
        ("high", False, False, "false alarm"),
        ("low", True, False, "missed"),
        ("none", True, False, "missed"),
        ("low", False, False, "low only"),
        ("none", False, False, None),
    ],
)
def test_verdicts(level: str, exposed: bool, housemate: bool, expected: str | None) -> None:
    assert verdict(_person("P1", level, exposed, housemate)) == expected
    assert expected is None or expected in VERDICTS


def test_the_false_alarm_reason_names_place_time_and_weights() -> None:
    people = [_person(f"P{i}", "high", False) for i in range(3)]
    people.append(_person("P9", "high", False, housemate=True))  # not a false alarm
    reason = false_alarm_reason(_summary(people))
    assert reason is not None
    assert reason.startswith("3 false alarms: ")
    assert "canteen (3)" in reason and "typically 30 min a day" in reason
    assert "63-73 dB fully" in reason and "about 4-11 m" in reason
    assert false_alarm_reason(_summary([_person("P1", "high", True)])) is None


def test_the_table_fits_80_columns_and_never_says_right_none() -> None:
    from rich.console import Console

    from tracewarn.commands.demo import _show

    people = [_person(f"P{i:03d}", "high", i % 3 != 0, housemate=i == 3) for i in range(40)]
    people += [_person("P100", "low", False), _person("P101", "none", True)]
    summary = _summary(people)
    summary.update(_totals())
    buffer = io.StringIO()
    _show(Console(file=buffer, width=80, force_terminal=False), summary)
    text = buffer.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "right (none)" not in text
    table = text.split("Who was warned, and why")[1].split("Everyone, with every detail")[0]
    rows = [line for line in table.splitlines() if line.startswith("P")]
    assert {line.split()[0]: line.split()[-1] for line in rows}["P003"] == "housemate"
    assert any(line.rstrip().endswith("missed") for line in rows)
    assert "... 20 more" in table  # 26 right warnings, 6 shown
    assert "13 false alarms: " in text


def _totals() -> dict[str, Any]:
    metric = {"precision": 0.5, "recall": 1.0, "true_positives": 1, "false_positives": 1,
              "false_negatives": 0}  # fmt: skip
    return {
        "levels": {"high": 40, "low": 1, "none": 1},
        "ground_truth": {"exposed": 27, "definition": "close"},
        "metrics": {"high": metric, "any_warning": metric},
        "traffic": {
            "observations": 1,
            "fake_uploads": 0,
            "key_packages_published": 1,
            "warning_packages_published": 0,
        },
    }


def test_the_timeline_has_a_row_for_everyone_warned_or_exposed(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tracewarn.sim.plot import plot_timeline

    people = [_person(f"P{i:03d}", "high", i % 2 == 0) for i in range(130)]
    people += [_person("P900", "none", False)]  # neither warned nor exposed: no row
    drawn: list[Any] = []
    original = plt.Figure.savefig

    def keep(fig: Any, *args: Any, **kwargs: Any) -> None:
        drawn.append(fig)
        original(fig, *args, **kwargs)

    plt.Figure.savefig = keep  # type: ignore[method-assign]
    try:
        path = plot_timeline(_summary(people), tmp_path / "timeline.png")
    finally:
        plt.Figure.savefig = original  # type: ignore[method-assign]
    assert path.read_bytes().startswith(b"\x89PNG")
    ax = drawn[0].axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == sorted(p["label"] for p in people[:130])
    colours = {t.get_color() for t in ax.get_yticklabels()}
    assert len(colours) == 2  # right and false alarm in different colours
    assert "Mon 2 Nov\n00:00" in [t.get_text() for t in ax.get_xticklabels()]
    # Every text stays inside the frame: nothing right of the axes' x limit.
    right = ax.get_xlim()[1]
    assert all(text.get_position()[0] < right for text in ax.texts)
