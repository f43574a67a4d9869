"""The federation demo: several regional backends and a gateway on loopback, one cross-border warning.

Theory of operation. The town is region `codes[0]` (its backend is the demo's usual one). The
other regions each get their own backend; a gateway sits between them, and each backend is an
onboarded member (certificates under the demo's trust anchor; identities sent as the headers a
TLS terminator would add, since everything is on loopback). One of the town's commuters lives
in region `codes[1]`: their phone has only ever talked to that region's backend. When the case
(who consented to sharing) reports in the town, the town's backend publishes, uploads a signed
batch to the gateway, the gateway forms a download batch, every other backend imports and
verifies it and publishes the keys in its package for the town's region, and the commuter's
phone, syncing from its home backend, matches them and is warned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracewarn.device import ManualClock, VirtualDevice
from tracewarn.sim._server import DemoBackend, demo_backend, serve_loopback
from tracewarn.sim.town import Town
from tracewarn.sim.truth import GroundTruth

__all__ = ["REGION_CODES", "DemoRegions", "demo_regions"]

# Real EFGS member codes read naturally in the output; the town is the first.
REGION_CODES = ("DE", "FR", "NL", "BE", "AT")
HOUR = 3600


@dataclass
class DemoRegions:
    codes: list[str]
    gateway_url: str
    gateway: Any  # GatewayContext
    member_dirs: dict[str, Path]
    backends: dict[str, DemoBackend] = field(default_factory=dict)

    @property
    def town(self) -> str:
        return self.codes[0]

    @property
    def commuter_home(self) -> str:
        return self.codes[1]

    def settings_for(self, code: str) -> dict[str, Any]:
        """Settings of a member backend: home `code`, packages for every region's travellers."""
        return {
            "regions": [code, *(c for c in self.codes if c != code)],
            "federation_gateway_url": self.gateway_url,
            "federation_dir": self.member_dirs[code],
            "federation_identity_headers": True,
            # One case, not the 140 keys a production batch waits for (docs/federation.md).
            "federation_min_batch_keys": 1,
        }

    def choose_commuter(self, town: Town, truth: GroundTruth, case: int) -> int | None:
        """The town's commuter (else anyone) who was really exposed to the case, lowest index."""
        exposed = sorted(p for p, c in truth.contacts.items() if c.exposed and p != case)
        commuters = [p for p in exposed if bool(town.commuter[p])]
        chosen = commuters or exposed
        return chosen[0] if chosen else None

    def exchange_and_sync(
        self, device: VirtualDevice, clock: ManualClock, t_test: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Federate after the town's publish, publish everywhere, sync the commuter's phone."""
        from tracewarn.server.federation.jobs import federate
        from tracewarn.server.gateway.app import run_gateway_jobs

        out: dict[str, Any] = {"regions": self.codes, "town_region": self.town, "uploads": {}}
        at = t_test + 9 * HOUR + 10 * 60
        clock.set(_moment(at))
        for code in self.codes:
            ctx = self.backends[code].app.state.ctx
            out["uploads"][code] = federate(ctx, now=at)["upload"]
        clock.set(_moment(at + 60))
        jobs = run_gateway_jobs(self.gateway)
        out["gateway_download_batches"] = jobs["batches"]
        out["imports"] = {}
        at += 5 * 60
        clock.set(_moment(at))
        for code in self.codes:
            ctx = self.backends[code].app.state.ctx
            out["imports"][code] = federate(ctx, now=at)["import"]
        publish_at = t_test + 10 * HOUR + 5 * 60
        clock.set(_moment(publish_at))
        for code in self.codes[1:]:
            self.backends[code].publish(publish_at)
        clock.set(_moment(t_test + 10 * HOUR + 30 * 60))
        note = device.sync(self.backends[self.commuter_home].client).notification.to_json()
        # Counts, not tags: upload tags are random, and the summary is the same for a seed.
        out["uploads"] = {
            code: {"batches": len(u.get("batches", [])), "keys_sent": u.get("keys_sent", 0)}
            for code, u in out["uploads"].items()
        }
        out["imports"] = {
            code: {
                "batches": len(i.get("batches", [])),
                "keys_imported": i.get("keys_imported", 0),
                "keys_rejected": i.get("keys_rejected", 0),
            }
            for code, i in out["imports"].items()
        }
        out["batches_exchanged"] = {
            "uploaded": sum(u["batches"] for u in out["uploads"].values()),
            "download_batches": jobs["batches"],
            # Each member verified the batch; it brought keys to those of other regions.
            "imported_with_keys": sum(1 for i in out["imports"].values() if i["keys_imported"] > 0),
            "keys_shared": sum(u["keys_sent"] for u in out["uploads"].values()),
        }
        out["timeline"] = {
            "federation_upload": _moment(t_test + 9 * HOUR + 10 * 60).isoformat(),
            "import": _moment(t_test + 9 * HOUR + 15 * 60).isoformat(),
            "publish_elsewhere": _moment(publish_at).isoformat(),
            "commuter_sync": _moment(t_test + 10 * HOUR + 30 * 60).isoformat(),
        }
        return note, out


def _moment(unix: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix, tz=dt.UTC)


@contextlib.contextmanager
def demo_regions(work: Path, clock: ManualClock, count: int) -> Iterator[DemoRegions]:
    """A gateway on loopback with `count` onboarded members, and the backends of all regions
    but the town's (the caller starts that one with `settings_for(town)` and adds it)."""
    from tracewarn.server.gateway.admin import init_anchor, onboard_member
    from tracewarn.server.gateway.app import create_gateway_app
    from tracewarn.server.gateway.settings import GatewaySettings

    if not 2 <= count <= len(REGION_CODES):
        raise ValueError(f"regions must be 2..{len(REGION_CODES)}")
    codes = list(REGION_CODES[:count])
    when = clock.now()
    settings = GatewaySettings(data_dir=work / "gateway", batching_interval_seconds=0)
    anchor = init_anchor(settings.resolved_anchor.parent, now=when - dt.timedelta(days=1))
    app = create_gateway_app(settings, clock=lambda: clock.now().timestamp())
    gateway = app.state.ctx
    members = {}
    for code in codes:
        members[code] = work / "members" / code
        onboard_member(
            gateway, anchor, country=code, out_dir=members[code], now=when - dt.timedelta(days=1)
        )
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(serve_loopback(app))
        regions = DemoRegions(codes, url, gateway, members)
        for code in codes[1:]:
            regions.backends[code] = stack.enter_context(
                demo_backend(work / f"server-{code}", clock, **regions.settings_for(code))
            )
        yield regions
