"""Health-authority backend: verification, submission, signed distribution, retention.

`create_app(Settings())` builds the FastAPI app (SQLite under the data directory by default,
PostgreSQL via `TRACEWARN_DATABASE_URL`); `publish` cuts signed packages; `cleanup` applies the
14-day retention. See docs/server.md for the HTTP API.
"""

from tracewarn.server.app import build_context, create_app
from tracewarn.server.context import ServerContext
from tracewarn.server.distribution.blobstore import BlobStore, FilesystemBlobStore, S3BlobStore
from tracewarn.server.settings import Settings

__all__ = [
    "BlobStore",
    "FilesystemBlobStore",
    "S3BlobStore",
    "ServerContext",
    "Settings",
    "build_context",
    "create_app",
]
