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
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tracewarn.commands._common import BadInput, parse_hex, parse_time, print_json
from tracewarn.protocol.errors import ProtocolError

if TYPE_CHECKING:
    import httpx

    from tracewarn.device import VirtualDevice

device_app = typer.Typer(help="Drive one virtual phone by hand.", no_args_is_help=True)

DirOption = Annotated[
    Path, typer.Option("--dir", help="The phone's directory (store and key file).")
]
DEFAULT_DIR = Path("tracewarn-device")
DEFAULT_SERVER = "http://127.0.0.1:8000"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.add_typer(device_app, name="device")


def _open_client(url: str) -> httpx.Client:
    """The phone's only way to the backend (tests replace this with an in-process client)."""
    import httpx

    return httpx.Client(base_url=url, timeout=30.0)


@contextlib.contextmanager
def _device(directory: Path, *, must_exist: bool = True) -> Iterator[VirtualDevice]:
    from tracewarn.device import StoreCorrupted, VirtualDevice

    if must_exist and not (directory / "device.db").exists():
        raise BadInput(f"no phone in {directory}; run `tracewarn device init --dir {directory}`")
    try:
        device = VirtualDevice.open(directory)
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
) -> None:
    """Create a phone (or update its settings): store, device key, backend URL, pinned keys."""
    from tracewarn.device import (
        BackendError,
        DeviceConfig,
        SystemClock,
        SystemRandomness,
        VirtualDevice,
    )

    if not (len(region) in (2, 3) and region.isalpha() and region.isupper()):
        raise BadInput(f"--region must be an upper-case region code, got {region!r}")
    if not server.startswith(("http://", "https://")):
        raise BadInput(f"--server must be an http(s) URL, got {server!r}")
    device = VirtualDevice.open(
        directory,
        clock=SystemClock(),
        randomness=SystemRandomness(),
        config=DeviceConfig(region=region),
    )
    try:
        device.store.set_meta("server_url", server.rstrip("/"))
        device.current_tek()
        pinned: Any = None
        if pin:
            from tracewarn.device._sync import pin_signing_keys

            with _backend_call(device) as client:
                try:
                    pinned = pin_signing_keys(device.store, client, region)
                except BackendError as exc:  # e.g. nothing published yet; sync pins later
                    pinned = f"not pinned yet ({exc}); the first sync will pin"
        print_json(
            {
                "directory": str(directory),
                "server": server,
                "region": region,
                "pinned_keys": pinned,
            }
        )
    finally:
        device.close()


@device_app.command("advertise")
def advertise(directory: DirOption = DEFAULT_DIR) -> None:
    """Print what the phone broadcasts right now (RPI and AEM, hex)."""
    with _device(directory) as device:
        rpi, aem = device.advertisement()
        print_json({"rpi": rpi.hex(), "aem": aem.hex(), "time": device.now()})


@device_app.command("observe")
def observe(
    rpi: Annotated[str, typer.Option(help="The heard RPI, 32 hex digits.")],
    aem: Annotated[str, typer.Option(help="The heard AEM, 8 hex digits.")],
    rssi: Annotated[int, typer.Option(help="Received signal strength, dBm.")],
    directory: DirOption = DEFAULT_DIR,
    time: Annotated[str | None, typer.Option(help="When (ISO 8601; default now).")] = None,
) -> None:
    """Record one received advertisement."""
    if not -128 <= rssi <= 127:
        raise BadInput(f"--rssi must be -128..127 dBm, got {rssi}")
    with _device(directory) as device:
        device.observe(
            parse_hex(rpi, "--rpi", 16),
            parse_hex(aem, "--aem", 4),
            rssi,
            parse_time(time, "--time"),
        )
        print_json({"recorded": 1, "observations": len(device.store.observation_records())})


@device_app.command("checkin")
def checkin(
    url: Annotated[str, typer.Argument(help="The scanned QR code URL.")],
    directory: DirOption = DEFAULT_DIR,
    start: Annotated[str | None, typer.Option(help="Arrival (ISO 8601; default now).")] = None,
    end: Annotated[
        str | None, typer.Option(help="Departure (ISO 8601; default: the code's default length).")
    ] = None,
) -> None:
    """Check in by scanning a QR code (validated as the Corona-Warn-App does)."""
    with _device(directory) as device:
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
def sync(directory: DirOption = DEFAULT_DIR) -> None:
    """Download new packages, verify, match, score, and show the resulting warning."""
    with _device(directory) as device, _backend_call(device) as client:
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
def status(directory: DirOption = DEFAULT_DIR) -> None:
    """What the phone holds and its current risk."""
    with _device(directory) as device:
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
        str,
        typer.Option(
            help="Symptom answer: onset_date, within_7_days, one_to_two_weeks, "
            "more_than_two_weeks, positive_no_date, no_symptoms, no_information."
        ),
    ] = "no_information",
) -> None:
    """After a positive test: get a TAN and upload keys and check-ins."""
    from tracewarn.device import SymptomAnswer

    if (code is None) == (teletan is None):
        raise BadInput("give exactly one of --code or --teletan")
    try:
        answer = SymptomAnswer(symptoms)
    except ValueError:
        raise BadInput(f"unknown --symptoms answer {symptoms!r}") from None
    onset_date = None
    if onset is not None:
        try:
            onset_date = dt.date.fromisoformat(onset)
        except ValueError:
            raise BadInput(f"--onset {onset!r} is not a date (YYYY-MM-DD)") from None
    if answer is SymptomAnswer.ONSET_DATE and onset_date is None:
        raise BadInput("--symptoms onset_date needs --onset")
    with _device(directory) as device, _backend_call(device) as client:
        print_json(
            device.report(client, guid=code, teletan=teletan, answer=answer, onset=onset_date)
        )


@device_app.command("fake-report", hidden=True)
def fake_report(directory: DirOption = DEFAULT_DIR) -> None:
    """Send the decoy upload every phone sends now and then (stores nothing on the server)."""
    with _device(directory) as device, _backend_call(device) as client:
        device.fake_report(client)
    print_json({"sent": "fake report"})
