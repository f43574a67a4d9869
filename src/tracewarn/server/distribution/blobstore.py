"""Where packages go: the `BlobStore` protocol, a filesystem store and an S3 store.

Atomicity: each `put` makes a complete object visible at once or not at all. The filesystem
store writes a temporary file in the target directory, fsyncs it, renames it over the name and
fsyncs the directory; S3 PUTs are atomic per object. The publisher writes packages before the
index that names them, so an index never names an incomplete file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tracewarn.server.settings import Settings

__all__ = [
    "BlobStore",
    "FilesystemBlobStore",
    "S3BlobStore",
    "blob_store_from_settings",
    "check_name",
]

_TMP_PREFIX = ".tmp-"


def check_name(name: str) -> str:
    """A blob name: relative, `/`-separated, no `.`/`..`/empty parts, no temporary prefix."""
    path = PurePosixPath(name)
    if (
        not name
        or name.startswith("/")
        or any(p in ("", ".", "..") or p.startswith(_TMP_PREFIX) for p in name.split("/"))
        or str(path) != name
    ):
        raise ValueError(f"invalid blob name {name!r}")
    return name


@runtime_checkable
class BlobStore(Protocol):
    def put(self, name: str, data: bytes, *, content_type: str) -> None: ...

    def get(self, name: str) -> bytes | None: ...

    def delete(self, name: str) -> None: ...

    def list(self, prefix: str) -> list[str]: ...


class FilesystemBlobStore:
    """Blobs as files under `root`; the default, and what `tracewarn serve` serves itself."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*check_name(name).split("/"))

    def put(self, name: str, data: bytes, *, content_type: str) -> None:
        target = self._path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f"{_TMP_PREFIX}{secrets.token_hex(8)}-{target.name}"
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        _fsync_dir(target.parent)

    def get(self, name: str) -> bytes | None:
        try:
            path = self._path(name)
        except ValueError:
            return None
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def list(self, prefix: str) -> list[str]:
        base = self.root
        if not base.exists():
            return []
        out = []
        for path in base.rglob("*"):
            if path.is_file() and not path.name.startswith(_TMP_PREFIX):
                name = path.relative_to(base).as_posix()
                if name.startswith(prefix):
                    out.append(name)
        return sorted(out)

    def remove_temporaries(self) -> int:
        """Delete temporary files a killed writer left behind; they were never visible."""
        count = 0
        if self.root.exists():
            for path in self.root.rglob(f"{_TMP_PREFIX}*"):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    count += 1
        return count


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3BlobStore:
    """Blobs as objects in an S3-compatible bucket (the `[s3]` extra: boto3)."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: Any = None,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self._client = client
        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def put(self, name: str, data: bytes, *, content_type: str) -> None:
        self._client.put_object(
            Bucket=self._bucket,
            Key=self._prefix + check_name(name),
            Body=data,
            ContentType=content_type,
            CacheControl="public,max-age=300",
        )

    def get(self, name: str) -> bytes | None:
        try:
            key = self._prefix + check_name(name)
        except ValueError:
            return None
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
        except self._client.exceptions.NoSuchKey:
            return None
        body: bytes = response["Body"].read()
        return body

    def delete(self, name: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=self._prefix + check_name(name))

    def list(self, prefix: str) -> list[str]:
        out: list[str] = []
        for page in self._pages(self._prefix + prefix):
            out.extend(item["Key"][len(self._prefix) :] for item in page.get("Contents", []))
        return sorted(out)

    def _pages(self, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator("list_objects_v2")
        yield from paginator.paginate(Bucket=self._bucket, Prefix=prefix)


def blob_store_from_settings(settings: Settings) -> BlobStore:
    if settings.blob_store == "s3":
        return S3BlobStore(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    return FilesystemBlobStore(settings.resolved_blob_dir)
