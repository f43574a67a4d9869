"""The protocol showcase behind `tracewarn showcase` (and `tracewarn demo` until the town demo).

It walks one key through the GAEN core: make a TEK, derive its identifiers and encrypted
metadata, publish it in a padded, signed export file, read the file back, verify it, find the
key among the padding, and show that one changed byte breaks the signature. Randomness and the
clock come in as arguments so tests can pin them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from tracewarn.protocol.errors import ProtocolError
from tracewarn.protocol.gaen import (
    BluetoothMetadata,
    ExportKey,
    ExportPadding,
    ExportSigner,
    TemporaryExposureKey,
    aem_key,
    decrypt_metadata,
    encrypt_metadata,
    interval_start,
    rolling_proximity_identifiers,
    verify_export,
    write_export_files,
)


@dataclass(frozen=True)
class ShowcaseResult:
    key_found: bool
    keys_in_file: int
    tampered_rejected: bool
    file_bytes: int


def run_showcase(
    *,
    now: int,
    random_bytes: Callable[[int], bytes],
    signing_key: ec.EllipticCurvePrivateKey,
    echo: Callable[[str], None],
) -> ShowcaseResult:
    """Run every step, printing what happens through `echo`."""
    tek = TemporaryExposureKey.generate(random_bytes(16), now)
    start = tek.rolling_start_interval_number
    echo("1. A phone makes a temporary exposure key (TEK) for today:")
    echo(f"   TEK {tek.key_data.hex()}, valid from {interval_start(start):%Y-%m-%d %H:%M} UTC")
    echo(f"   for {tek.rolling_period} ten-minute intervals (ENIN {start}..{start + 143}).")

    rpis = rolling_proximity_identifiers(tek.key_data, start, tek.rolling_period)
    metadata = BluetoothMetadata(major=1, minor=0, tx_power=-8).to_bytes()
    aemk = aem_key(tek.key_data)
    echo("2. It broadcasts a new rolling proximity identifier (RPI) every interval:")
    for interval in (0, 1, 143):
        aem = encrypt_metadata(aemk, rpis[interval], metadata)
        echo(f"   ENIN {start + interval}: RPI {rpis[interval].hex()}  AEM {aem.hex()}")
    clear = decrypt_metadata(aemk, rpis[0], encrypt_metadata(aemk, rpis[0], metadata))
    echo(f"   {len(set(rpis))} distinct RPIs; only the TEK's owner can link them. The AEM")
    echo(f"   decrypts back to metadata {clear.hex()} (version 1.0, TX power -8 dBm).")
    heard = set(rpis[70:73])
    echo("   Another phone nearby around midday hears three of them.")

    signer = ExportSigner(signing_key, key_id="999", key_version="v1")
    uploaded = ExportKey(tek.key_data, start, tek.rolling_period, transmission_risk_level=4)
    (zip_bytes,) = write_export_files(
        [uploaded],
        region="XX",
        start_timestamp=now - 3600,
        end_timestamp=now,
        signers=[signer],
        padding=ExportPadding(),
        random_bytes=random_bytes,
    )
    echo("3. After a positive test the key is uploaded; the health authority publishes it in a")
    echo(f"   signed export file ({len(zip_bytes)} bytes), padded with random keys so the file")
    echo("   does not reveal how few people uploaded, and sorted so order reveals nothing.")

    verified = verify_export(zip_bytes, signer.public_key())
    export = verified.export
    found = uploaded in export.keys
    info = verified.verified_by[0]
    echo("4. That phone downloads the file, verifies it and matches on the device:")
    echo(f"   signature by key id {info.verification_key_id!r} verifies; region {export.region},")
    echo(f"   {export.key_count} keys; the uploaded key is {'among them' if found else 'MISSING'}.")
    matches = [
        key
        for key in export.iter_keys()
        if heard.intersection(
            rolling_proximity_identifiers(
                key.key_data, key.rolling_start_interval_number, key.rolling_period
            )
        )
    ]
    echo(f"   Deriving the RPIs of all {export.key_count} keys: {len(matches)} key matches the")
    echo("   identifiers it heard, so it warns its user; no server learns who met whom.")
    found = found and matches == [uploaded]

    tampered = bytearray(export.export_bin)
    tampered[-1] ^= 1
    rejected = False
    try:
        verify_export(_rezip_with(zip_bytes, bytes(tampered)), signer.public_key())
    except ProtocolError as exc:
        rejected = True
        echo(f"5. One flipped bit in export.bin and verification fails: {exc}")
    return ShowcaseResult(found, export.key_count, rejected, len(zip_bytes))


def _rezip_with(zip_bytes: bytes, export_bin: bytes) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        export_sig = archive.read("export.sig")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.bin", export_bin)
        archive.writestr("export.sig", export_sig)
    return out.getvalue()
