"""Start-up checks that turn a bad configuration into a `ConfigError` naming what to fix.

Each check runs before the server accepts a request, so an operator sees one line ("the data
directory is a file; set TRACEWARN_DATA_DIR ...") instead of a traceback from deep inside
pathlib, SQLAlchemy or boto3. Messages never include a password: URLs are shown masked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tracewarn.server.settings import ConfigError, Settings

__all__ = ["check_blob_store", "database_errors", "masked_url", "prepare_data_dir"]


def prepare_data_dir(settings: Settings) -> None:
    """Create the data directory, or say why it cannot be."""
    path = settings.data_dir
    if path.exists() and not path.is_dir():
        raise ConfigError(f"data directory {path} is a file; set TRACEWARN_DATA_DIR to a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create data directory {path}: {exc.strerror}; "
            "set TRACEWARN_DATA_DIR to a writable directory"
        ) from None


def masked_url(url: str) -> str:
    """`url` with any password replaced by `***`."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show only its scheme
        return url.split("://", 1)[0] + "://..."


@contextlib.contextmanager
def database_errors(settings: Settings) -> Iterator[None]:
    """Turn connection and driver failures at start-up into one-line `ConfigError`s."""
    import sqlalchemy.exc as sa_exc

    url = masked_url(settings.resolved_database_url)
    try:
        yield
    except sa_exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "failed"
        raise ConfigError(
            f"cannot use the database {url}: {reason}; check TRACEWARN_DATABASE_URL and that "
            "the database server is running"
        ) from None
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError) as exc:
        raise ConfigError(
            f"unsupported database URL {url}: {exc}; use sqlite:///PATH or postgresql://..."
        ) from None


def check_blob_store(settings: Settings) -> None:
    """The S3 store needs boto3 and credentials; without them every publish would fail."""
    if settings.blob_store != "s3":
        return
    try:
        import boto3
    except ImportError:
        raise ConfigError(
            "TRACEWARN_BLOB_STORE=s3 needs boto3: pip install 'tracewarn[s3]'"
        ) from None
    if boto3.Session().get_credentials() is None:
        raise ConfigError(
            "TRACEWARN_BLOB_STORE=s3 but no AWS credentials were found; set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile or instance role)"
        )
