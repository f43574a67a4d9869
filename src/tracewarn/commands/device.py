"""`tracewarn device ...`: drive one virtual phone by hand against a running backend.

The phone lives in a directory (`--dir`): its encrypted store `device.db` and, beside it, the
key file `device.key` that never leaves the machine. The backend URL is saved at `init`. Every
command prints JSON, so the commands can be scripted; two phones can "meet" by piping one's
`advertise` into the other's `observe`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracewarn.commands._common import BadInput, parse_hex, parse_time, print_json, read_bytes
from tracewarn.protocol.errors import ProtocolError

if TYPE_CHECKING:
    import httpx

    from tracewarn.device import VirtualDevice

device_app = typer.Typer(help="Drive one virtual phone by hand.", no_args_is_help=True)

DirOption = Annotated[
    Path, typer.Option("--dir", help="The phone's directory (store and key file).")
]
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        metavar="ISO-TIME",
        help="Run the phone as if its clock read this (ISO 8601; no offset = UTC), e.g. to "
        "sync the day after a meeting; default: the real time.",
    ),
]
DEFAULT_DIR = Path("tracewarn-device")
DEFAULT_SERVER = "http://127.0.0.1:8000"
# A phone keeps what it hears for 14 days (tracewarn.device.store.RETENTION_DAYS); a clock a
# little ahead of the real one is normal, a sighting an hour in the future is a mistake.
_FUTURE_TOLERANCE_SECONDS = 300


class Symptoms(StrEnum):
    """`tracewarn.protocol.presence.SymptomAnswer`'s values (a test keeps the two equal)."""

    onset_date = "onset_date"
    within_7_days = "within_7_days"
    one_to_two_weeks = "one_to_two_weeks"
    more_than_two_weeks = "more_than_two_weeks"
    positive_no_date = "positive_no_date"
    no_symptoms = "no_symptoms"
    no_information = "no_information"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(device_app, name="device")


def _open_client(url: str) -> httpx.Client:
    """The phone's only way to the backend (tests replace this with an in-process client)."""
    import httpx

    return httpx.Client(base_url=url, timeout=30.0)


def _clock(now: str | None) -> Any:
    """The phone's clock: the real one, or `--now` fixed (`device.ManualClock`)."""
    from tracewarn.device import ManualClock, SystemClock

    moment = parse_time(now, "--now")
    if moment is None:
        return SystemClock()
    return ManualClock(dt.datetime.fromtimestamp(moment, tz=dt.UTC))


@contextlib.contextmanager
def _device(
    directory: Path, *, must_exist: bool = True, now: str | None = None
) -> Iterator[VirtualDevice]:
    from tracewarn.device import StoreCorrupted, VirtualDevice

    if must_exist and not (directory / "device.db").exists():
        raise BadInput(f"no phone in {directory}; run `tracewarn device init --dir {directory}`")
    clock = _clock(now)
    try:
        device = VirtualDevice.open(directory, clock=clock)
    except (StoreCorrupted, OSError) as exc:
        raise BadInput(f"cannot open the phone in {directory}: {exc}") from None
    try:
        yield device
    except StoreCorrupted as exc:
        raise BadInput(str(exc)) from None
    finally:
        device.close()


@contextlib.contextmanager
def _backend_call(device: VirtualDevice) -> Iterator[httpx.Client]:
    from tracewarn.device import BackendError, ReportRefused

    url = device.store.get_meta("server_url") or DEFAULT_SERVER
    try:
        with _open_client(url) as client:
            yield client
    except (BackendError, ReportRefused) as exc:
        raise BadInput(str(exc)) from None


@device_app.command("init")
def init(
    directory: DirOption = DEFAULT_DIR,
    server: Annotated[str, typer.Option(help="Backend base URL.")] = DEFAULT_SERVER,
    region: Annotated[str, typer.Option(help="Home region of the phone.")] = "DE",
    pin: Annotated[
        bool, typer.Option(help="Fetch and pin the region's signing keys now (else at first sync).")
    ] = True,
    now: NowOption = None,
) -> None:
    """Create a phone (or update its settings): store, device key, backend URL, pinned keys."""
    from tracewarn.device import (
        BackendError,
        DeviceConfig,
        SystemRandomness,
        VirtualDevice,
    )

    if not (len(region) in (2, 3) and region.isalpha() and region.isupper()):
        raise BadInput(f"--region must be an upper-case region code, got {region!r}")
    if not server.startswith(("http://", "https://")):
        raise BadInput(f"--server must be an http(s) URL, got {server!r}")
    device = VirtualDevice.open(
        directory,
        clock=_clock(now),
        randomness=SystemRandomness(),
        config=DeviceConfig(region=region),
    )
    try:
        device.store.set_meta("server_url", server.rstrip("/"))
        device.current_tek()
        pinned: Any = None
        pin_error = None
        if pin:
            from tracewarn.device._sync import pin_signing_keys

            with _backend_call(device) as client:
                try:
                    pinned = pin_signing_keys(device.store, client, region)
                except BackendError as exc:  # e.g. server down or nothing published yet
                    pin_error = str(exc)
        # Fields only, no sentences: a script reads `pinned_keys` (null: the first sync pins).
        print_json(
            {
                "directory": str(directory),
                "server": server,
                "region": region,
                "pinned_keys": pinned,
                "pin_error": pin_error,
            }
        )
    finally:
        device.close()


@device_app.command("advertise")
def advertise(directory: DirOption = DEFAULT_DIR, now: NowOption = None) -> None:
    """Print what the phone broadcasts right now (RPI and AEM, hex)."""
    with _device(directory, now=now) as device:
        rpi, aem = device.advertisement()
        print_json({"rpi": rpi.hex(), "aem": aem.hex(), "time": device.now()})


@device_app.command("observe")
def observe(
    rssi: Annotated[int, typer.Option(help="Received signal strength, dBm.")],
    rpi: Annotated[
        str | None,
        typer.Option(metavar="HEX", help="The heard RPI, 32 hex digits (required unless --heard)."),
    ] = None,
    aem: Annotated[
        str | None,
        typer.Option(metavar="HEX", help="The heard AEM, 8 hex digits (required unless --heard)."),
    ] = None,
    heard: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="The other phone's `device advertise` JSON (`-`: standard input), instead of "
            "--rpi and --aem.",
        ),
    ] = None,
    directory: DirOption = DEFAULT_DIR,
    time: Annotated[
        str | None, typer.Option(metavar="ISO-TIME", help="When (ISO 8601; default now).")
    ] = None,
    now: NowOption = None,
) -> None:
    """Record one received advertisement (within the last 14 days, not in the future).

    Two phones meet with a pipe: `tracewarn device advertise --dir a | tracewarn device observe
    --dir b --heard - --rssi -62`.
    """
    from tracewarn.device.store import RETENTION_DAYS

    if not -128 <= rssi <= 127:
        raise BadInput(f"--rssi must be -128..127 dBm, got {rssi}")
    if heard is not None:
        if rpi is not None or aem is not None:
            raise BadInput("give --heard or --rpi and --aem, not both")
        rpi, aem = _advertisement(heard)
    if rpi is None or aem is None:
        raise BadInput("give --rpi and --aem (or --heard FILE with `device advertise` JSON)")
    when_heard = parse_time(time, "--time")
    with _device(directory, now=now) as device:
        clock = device.now()
        when = clock if when_heard is None else when_heard
        if when > clock + _FUTURE_TOLERANCE_SECONDS:
            raise BadInput(f"--time {time} is in the future of the phone's clock ({_iso(clock)})")
        # The store keeps the days from (today - 13) on; anything older is deleted as written.
        oldest = (clock // 86400 - (RETENTION_DAYS - 1)) * 86400
        if when < oldest:
            raise BadInput(
                f"--time {time} is older than the phone's {RETENTION_DAYS}-day retention "
                f"(from {_iso(oldest)}): it would be deleted as soon as it is written"
            )
        device.observe(parse_hex(rpi, "--rpi", 16), parse_hex(aem, "--aem", 4), rssi, when)
        print_json({"recorded": 1, "observations": len(device.store.observation_records())})


def _advertisement(source: Path) -> tuple[str, str]:
    import json
    import sys

    text = sys.stdin.read() if str(source) == "-" else read_bytes(source).decode("utf-8", "replace")
    try:
        data = json.loads(text)
        return str(data["rpi"]), str(data["aem"])
    except (ValueError, KeyError, TypeError):
        raise BadInput(
            f"--heard {source}: expected the JSON of `tracewarn device advertise`"
        ) from None


def _iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).isoformat()


@device_app.command("checkin")
def checkin(
    url: Annotated[str, typer.Argument(help="The scanned QR code URL.")],
    directory: DirOption = DEFAULT_DIR,
    start: Annotated[str | None, typer.Option(help="Arrival (ISO 8601; default now).")] = None,
    end: Annotated[
        str | None, typer.Option(help="Departure (ISO 8601; default: the code's default length).")
    ] = None,
    now: NowOption = None,
) -> None:
    """Check in by scanning a QR code (validated as the Corona-Warn-App does)."""
    with _device(directory, now=now) as device:
        try:
            stored = device.check_in(
                url, start=parse_time(start, "--start"), end=parse_time(end, "--end")
            )
        except ProtocolError:
            raise
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        print_json(
            {
                "check_in": stored.id,
                "start": dt.datetime.fromtimestamp(stored.start, tz=dt.UTC).isoformat(),
                "end": dt.datetime.fromtimestamp(stored.end, tz=dt.UTC).isoformat(),
            }
        )


@device_app.command("sync")
def sync(directory: DirOption = DEFAULT_DIR, now: NowOption = None) -> None:
    """Download new packages, verify, match, score, and show the resulting warning."""
    with _device(directory, now=now) as device, _backend_call(device) as client:
        result = device.sync(client)
    print_json(
        {
            "downloaded": {
                "key_packages": result.key_packages,
                "keys": result.keys,
                "warning_packages": result.warning_packages,
                "warning_reports": result.warning_reports,
            },
            "new_exposure_windows": result.new_windows,
            "new_notification": result.raised,
            "risk": result.notification.to_json(),
        }
    )


@device_app.command("status")
def status(directory: DirOption = DEFAULT_DIR, now: NowOption = None) -> None:
    """What the phone holds and its current risk."""
    with _device(directory, now=now) as device:
        data: dict[str, Any] = device.status()
        data["server"] = device.store.get_meta("server_url")
        data["reported"] = device.store.get_meta("reported")
        print_json(data)


@device_app.command("report")
def report(
    directory: DirOption = DEFAULT_DIR,
    code: Annotated[str | None, typer.Option(help="The lab's test code (GUID).")] = None,
    teletan: Annotated[str | None, typer.Option(help="A teleTAN from the hotline.")] = None,
    onset: Annotated[
        str | None, typer.Option(help="Date symptoms began (YYYY-MM-DD), if any.")
    ] = None,
    symptoms: Annotated[
        Symptoms,
        typer.Option(help="The symptom answer (CWA's questions), sets the keys' TRL."),
    ] = Symptoms.no_information,
    now: NowOption = None,
) -> None:
    """After a positive test: get a TAN and upload keys and check-ins.

    The JSON says when the backend may publish the keys: a key only after it expired plus two
    hours, in the package of an hour that is over, so today's key comes out tomorrow.
    """
    from tracewarn.device import SymptomAnswer

    if (code is None) == (teletan is None):
        raise BadInput("give exactly one of --code or --teletan")
    answer = SymptomAnswer(symptoms.value)
    onset_date = None
    if onset is not None:
        try:
            onset_date = dt.date.fromisoformat(onset)
        except ValueError:
            raise BadInput(f"--onset {onset!r} is not a date (YYYY-MM-DD)") from None
    if answer is SymptomAnswer.ONSET_DATE and onset_date is None:
        raise BadInput("--symptoms onset_date needs --onset")
    with _device(directory, now=now) as device, _backend_call(device) as client:
        print_json(
            device.report(client, guid=code, teletan=teletan, answer=answer, onset=onset_date)
        )


@device_app.command("fake-report", hidden=True)
def fake_report(directory: DirOption = DEFAULT_DIR) -> None:
    """Send the decoy upload every phone sends now and then (stores nothing on the server)."""
    with _device(directory) as device, _backend_call(device) as client:
        device.fake_report(client)
    print_json({"sent": "fake report"})
