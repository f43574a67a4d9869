"""CDN paths and index documents (CWA server [docs/specifications.md#cwa-server]).

    version/v1/diagnosis-keys/country                          ["DE", ...]
    version/v1/diagnosis-keys/country/{CC}/date                ["2026-11-27", ...] (complete days)
    version/v1/diagnosis-keys/country/{CC}/date/{d}            daily signed zip
    version/v1/diagnosis-keys/country/{CC}/date/{d}/hour       [0, 5, 13, ...]
    version/v1/diagnosis-keys/country/{CC}/date/{d}/hour/{h}   hourly signed zip
    version/v2/twp/country/{CC}/hour                           {"oldest": h, "latest": h}
    version/v2/twp/country/{CC}/hour/{h}                       signed trace warning package
    version/v1/signing-keys                                    public keys

Each resource is stored as the blob `<path>/index` (`blob_name`), because a daily package's
path is also the parent of its hour index.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tracewarn.server.distribution.blobstore import BlobStore
from tracewarn.server.distribution.routes import blob_name

__all__ = [
    "country_index",
    "daily_path",
    "date_index",
    "day_of",
    "hour_index",
    "hourly_path",
    "read_json",
    "twp_index",
    "twp_path",
    "write_json",
]

KEYS = "version/v1/diagnosis-keys/country"
TWP = "version/v2/twp/country"


def day_of(hour: int) -> str:
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=hour)).date().isoformat()


def country_index() -> str:
    return KEYS


def date_index(region: str) -> str:
    return f"{KEYS}/{region}/date"


def daily_path(region: str, day: str) -> str:
    return f"{KEYS}/{region}/date/{day}"


def hour_index(region: str, day: str) -> str:
    return f"{KEYS}/{region}/date/{day}/hour"


def hourly_path(region: str, hour: int) -> str:
    return f"{KEYS}/{region}/date/{day_of(hour)}/hour/{hour % 24}"


def twp_index(region: str) -> str:
    return f"{TWP}/{region}/hour"


def twp_path(region: str, hour: int) -> str:
    return f"{TWP}/{region}/hour/{hour}"


def read_json(blobs: BlobStore, path: str) -> Any:
    data = blobs.get(blob_name(path))
    return None if data is None else json.loads(data)


def write_json(blobs: BlobStore, path: str, value: Any) -> None:
    blobs.put(
        blob_name(path),
        json.dumps(value, separators=(",", ":")).encode(),
        content_type="application/json",
    )
