"""PNG curves and a self-contained HTML report of a run or a sweep (plotting only; the model
never imports this module, so the simulator core runs without matplotlib's import cost)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["write_run_report", "write_sweep_report"]


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def epidemic_png(summary: dict[str, Any]) -> bytes:
    """New infections, infectious, quarantined and warnings per day."""
    daily = summary["daily"]
    days = range(len(daily["new_infections"]))
    fig, (top, middle, bottom) = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    top.plot(days, daily["new_infections"], label="new infections")
    top.plot(days, daily["infectious"], label="infected (not recovered)")
    top.plot(days, daily["hospitalised"], label="in hospital")
    top.set_ylabel("people")
    top.legend()
    top.set_title(
        f"{summary['population']:,} people, uptake scale {summary['uptake_scale']}, "
        f"seed {summary['seed']}"
    )
    r_t = [(d, r) for d, r in enumerate(summary["r_t"]) if r is not None]
    middle.plot([d for d, _ in r_t], [r for _, r in r_t], label="R_t (by day of infection)")
    middle.axhline(1.0, color="grey", linewidth=0.8)
    middle.set_ylabel("R_t")
    middle.legend()
    bottom.plot(days, daily["quarantined"], label="isolated or quarantined")
    bottom.plot(days, daily["warnings"], label="new warnings")
    bottom.plot(days, daily["uploads"], label="uploads")
    bottom.set_xlabel("day")
    bottom.set_ylabel("people")
    bottom.legend()
    return _png(fig)


def uptake_png(points: list[dict[str, Any]]) -> bytes:
    """Mean infections and reduction against uptake scale."""
    x = [p["uptake_scale"] for p in points]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(x, [p["mean_total_infected"] for p in points], marker="o", label="mean infections")
    ax.set_xlabel("uptake scale (x by-age app-user fractions)")
    ax.set_ylabel("infections")
    twin = ax.twinx()
    twin.plot(x, [p["reduction_pct"] for p in points], marker="s", color="C1", label="reduction %")
    twin.set_ylabel("reduction vs no app (%)")
    fig.legend(loc="upper center")
    return _png(fig)


def _html(title: str, images: dict[str, bytes], table: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v))}</td></tr>"
        for k, v in table.items()
        if not isinstance(v, dict | list)
    )
    figures = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode()}"><figcaption>{html.escape(name)}</figcaption></figure>'
        for name, data in images.items()
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
        "th{text-align:left;padding-right:1em}img{max-width:100%}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table>{rows}</table>{figures}</body></html>\n"
    )


def write_run_report(summary: dict[str, Any], out: Path) -> list[Path]:
    """summary.json, epidemic.png and report.html in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    png = epidemic_png(summary)
    paths = [out / "summary.json", out / "epidemic.png", out / "report.html"]
    paths[0].write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    paths[1].write_bytes(png)
    paths[2].write_text(
        _html("tracewarn population simulation", {"epidemic curves": png}, summary),
        encoding="utf-8",
    )
    return paths


def write_sweep_report(result: dict[str, Any], out: Path) -> list[Path]:
    """sweep.json, uptake.png and report.html in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    png = uptake_png(result["points"])
    paths = [out / "sweep.json", out / "uptake.png", out / "report.html"]
    paths[0].write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    paths[1].write_bytes(png)
    table = {f"uptake {p['uptake_scale']}": p for p in result["points"]}
    flat = {
        k: f"{v['mean_total_infected']} infected, -{v['reduction_pct']} %" for k, v in table.items()
    }
    paths[2].write_text(
        _html("tracewarn uptake sweep", {"infections vs uptake": png}, flat), encoding="utf-8"
    )
    return paths
