"""Class 6: export reading is bounded by declared limits; `export inspect` checks the size
before reading and streams its --json output."""

from __future__ import annotations

import contextlib
import json
import os
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.cli._run import run_main
from tests.reliability.conftest import cases
from tracewarn.protocol.errors import ExportFormatError
from tracewarn.protocol.gaen import (
    ExportKey,
    ExportSigner,
    ZipLimits,
    read_export,
    write_export_files,
)
from tracewarn.protocol.gaen._exporttypes import EXPORT_HEADER
from tracewarn.protocol.gaen._zipfile import MAX_EXPORT_KEYS, write_export_zip

# The smallest record a reader could accept: tag, length, key_data tag, length, 16 bytes.
_RECORD = b"\x3a\x12\x0a\x10" + bytes(range(16))


def _bomb(mebibytes: float) -> bytes:
    count = int(mebibytes * 2**20) // len(_RECORD)
    return write_export_zip(EXPORT_HEADER + _RECORD * count, b"", compresslevel=9)


def test_zip_bomb_of_key_records_is_refused_by_its_declared_size() -> None:
    # Repro: a 229 KB export inflating to 90 MiB of key records took 6 s / 1 GB to inspect.
    bomb = _bomb(90)
    assert len(bomb) < 240_000
    with pytest.raises(ExportFormatError, match="over the"):
        read_export(bomb)


def test_more_key_records_than_the_limit_are_refused_before_decoding() -> None:
    # Inside the byte limit, but more records than a national day (~1.4 M keys) needs.
    bomb = _bomb(60)
    with pytest.raises(ExportFormatError, match=f"over the limit of {MAX_EXPORT_KEYS}"):
        read_export(bomb)
    small = write_export_zip(EXPORT_HEADER + _RECORD * 1001, b"")
    with pytest.raises(ExportFormatError, match="1001 key records"):
        read_export(small, limits=ZipLimits(max_keys=1000))
    assert read_export(small, limits=ZipLimits(max_keys=1001)).key_count == 1001


def test_inspect_checks_the_size_before_reading(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Repro: `inspect` read a whole 200 MiB file before its size check. A sparse file costs no
    # disk; reading it would cost 200 MiB of memory.
    big = tmp_path / "big.zip"
    with big.open("wb") as handle:
        handle.truncate(200 * 2**20)
    read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read whole file"))
    assert run_main(monkeypatch, "export", "inspect", str(big)) == 2
    err = capsys.readouterr().err
    assert err.startswith("tracewarn: error: ") and "limit" in err and err.count("\n") == 1
    monkeypatch.setattr(Path, "read_bytes", read)


def _export(count: int, revised: bool = False) -> bytes:
    signer = ExportSigner(ec.generate_private_key(ec.SECP256R1()), "262", "v1")
    keys = [
        ExportKey(
            key_data=os.urandom(16),
            rolling_start_interval_number=2_950_000 + 144 * (i % 14),
            rolling_period=144,
            transmission_risk_level=1 + i % 8,
        )
        for i in range(count)
    ]
    (data,) = write_export_files(
        keys,
        region="DE",
        start_timestamp=0,
        end_timestamp=3600,
        signers=[signer],
        max_keys_per_file=max(count, 1),
    )
    return data


def test_inspect_json_streams_the_same_document(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for count in (0, 1, 3000):
        path = tmp_path / f"e{count}.zip"
        path.write_bytes(_export(count))
        assert run_main(monkeypatch, "export", "inspect", str(path), "--json") == 0
        out = capsys.readouterr().out
        doc = json.loads(out)
        assert doc["key_count"] == count == len(doc["keys"]) and doc["revised_keys"] == []
        # Byte-identical to what one json.dumps of the whole document gives.
        assert out == json.dumps(doc, indent=2) + "\n"


def test_mutated_exports_raise_only_export_format_error() -> None:
    rng = random.Random(6)
    sample = _export(50)
    for _ in range(cases(300, 20000)):
        data = bytearray(sample)
        for _ in range(rng.randint(1, 10)):
            at = rng.randrange(len(data))
            if rng.random() < 0.7:
                data[at] = rng.randrange(256)
            else:
                del data[at : at + rng.randint(1, 50)]
        with contextlib.suppress(ExportFormatError):
            read_export(bytes(data), limits=ZipLimits(max_keys=100))
