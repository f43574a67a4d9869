"""Health-authority backend: verification, submission, signed distribution, retention.

`create_app(Settings())` builds the FastAPI app (SQLite under the data directory by default,
PostgreSQL via `TRACEWARN_DATABASE_URL`); `publish` cuts signed packages; `cleanup` applies the
14-day retention; `asgi_client(app)` is a sync `httpx.Client` for the app in-process. See
docs/server.md for the HTTP API.
"""

from tracewarn.server.app import build_context, create_app
from tracewarn.server.context import ServerContext
from tracewarn.server.distribution.blobstore import BlobStore, FilesystemBlobStore, S3BlobStore
from tracewarn.server.distribution.publish import PublishReport, publish
from tracewarn.server.retention import CleanupReport, cleanup
from tracewarn.server.settings import Settings
from tracewarn.server.testing import asgi_client

__all__ = [
    "BlobStore",
    "CleanupReport",
    "FilesystemBlobStore",
    "PublishReport",
    "S3BlobStore",
    "ServerContext",
    "Settings",
    "asgi_client",
    "build_context",
    "cleanup",
    "create_app",
    "publish",
]
