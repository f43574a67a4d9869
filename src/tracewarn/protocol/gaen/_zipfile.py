"""The export zip: exactly export.bin and export.sig, Deflate, zeroed timestamps (GAEN export file format [docs/specifications.md#gaen-export]).

Reading is defensive because export files come from other servers and the network: the declared
uncompressed sizes are checked against a limit before anything is inflated, and inflation then
reads in bounded chunks and stops past the limit, so a zip bomb that lies about its sizes still
cannot allocate more than the limit. Every failure of the zip layer becomes ExportFormatError.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from tracewarn.protocol.errors import ExportFormatError

__all__ = [
    "BIN_NAME",
    "MAX_EXPORT_KEYS",
    "SIG_NAME",
    "ZipLimits",
    "read_export_zip",
    "write_export_zip",
]

BIN_NAME = "export.bin"
SIG_NAME = "export.sig"
_ZERO_DATE = (1980, 0, 0, 0, 0, 0)  # DOS date and time 0, as the Go reference writer leaves them
_READ_CHUNK = 1 << 20

# zipfile signals corrupt input through many exception types; all of them mean a bad file here.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    KeyError,
    IndexError,
    OverflowError,
    UnicodeDecodeError,
)


# A national day is ~1.4 M keys (Germany's peak); one file never needs to hold more than that.
MAX_EXPORT_KEYS = 1_500_000
# A key record is ~31 bytes on the wire (16-byte key, start, TRL, report type, DSOS); 44 leaves
# room for writers that spell out every optional field. export.bin is bounded by the key limit,
# so a zip bomb of tiny records cannot make a reader split more records than the limit allows.
_MAX_RECORD_BYTES = 44


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Largest accepted sizes: the zip itself, export.bin and export.sig (uncompressed), and
    the number of key records (keys plus revised keys) export.bin may hold."""

    max_zip_size: int = 64 * 1024 * 1024
    max_bin_size: int = MAX_EXPORT_KEYS * _MAX_RECORD_BYTES
    max_sig_size: int = 64 * 1024
    max_keys: int = MAX_EXPORT_KEYS


def write_export_zip(export_bin: bytes, export_sig: bytes, compresslevel: int = 1) -> bytes:
    """The zip archive holding the two entries, byte-for-byte reproducible."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in ((BIN_NAME, export_bin), (SIG_NAME, export_sig)):
            info = zipfile.ZipInfo(name, date_time=_ZERO_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # fixed, so the bytes do not depend on the writer's OS
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=compresslevel)
    return out.getvalue()


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def _check_local_header(data: bytes, info: zipfile.ZipInfo) -> None:
    """The local header must repeat the central directory's entry (zipfile reads only the latter).

    Otherwise two readers could disagree about the same file, and a changed byte in the local
    header would go unnoticed.
    """
    start = info.header_offset
    fields = _LOCAL_HEADER.unpack_from(data, start)
    magic, version, flags, method, time, date, crc, compressed, size, name_length, _ = fields
    name = data[start + _LOCAL_HEADER.size : start + _LOCAL_HEADER.size + name_length]
    expected_sizes = (info.CRC, info.compress_size, info.file_size)
    descriptor = flags & 0x8  # sizes follow the data instead
    if (
        magic != b"PK\x03\x04"
        or (version, flags, method) != (info.extract_version, info.flag_bits, info.compress_type)
        or (time, date) != _dos_time_date(info)
        or (not descriptor and (crc, compressed, size) != expected_sizes)
        or name != info.orig_filename.encode("utf-8" if flags & 0x800 else "cp437")
    ):
        raise ExportFormatError(f"{info.filename}: local header disagrees with the directory")


def _dos_time_date(info: zipfile.ZipInfo) -> tuple[int, int]:
    year, month, day, hour, minute, second = info.date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise ExportFormatError(
            f"{info.filename} declares {info.file_size} bytes uncompressed, over the {limit}-byte limit"
        )
    chunks: list[bytes] = []
    total = 0
    with archive.open(info) as stream:
        for _ in range(limit // _READ_CHUNK + 2):
            chunk = stream.read(_READ_CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ExportFormatError(f"{info.filename} inflates past the {limit}-byte limit")
            chunks.append(chunk)
    return b"".join(chunks)


def read_export_zip(data: bytes, limits: ZipLimits) -> tuple[bytes, bytes]:
    """(export.bin, export.sig) of an export zip; ExportFormatError if it is anything else."""
    if len(data) > limits.max_zip_size:
        raise ExportFormatError(
            f"zip is {len(data)} bytes, over the {limits.max_zip_size}-byte limit"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = sorted(info.filename for info in infos)
            if names != [BIN_NAME, SIG_NAME]:
                raise ExportFormatError(
                    f"an export zip holds exactly export.bin and export.sig, found {names[:5]}"
                )
            entries: dict[str, bytes] = {}
            for info in infos:
                if info.flag_bits & 0x1:
                    raise ExportFormatError(f"{info.filename} is encrypted")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise ExportFormatError(
                        f"{info.filename} uses compression method {info.compress_type}; "
                        "only stored and Deflate are allowed"
                    )
                _check_local_header(data, info)
                limit = limits.max_bin_size if info.filename == BIN_NAME else limits.max_sig_size
                entries[info.filename] = _read_entry(archive, info, limit)
    except ExportFormatError:
        raise
    except _ZIP_ERRORS as exc:
        raise ExportFormatError(f"corrupt export zip: {exc}") from None
    return entries[BIN_NAME], entries[SIG_NAME]
