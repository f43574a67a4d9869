"""Blob stores: filesystem atomicity rules, and S3 against moto's server on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracewarn.protocol.gaen import load_public_key, verify_export
from tracewarn.server import FilesystemBlobStore, S3BlobStore, Settings, create_app
from tracewarn.server.distribution import layout
from tracewarn.server.distribution.blobstore import BlobStore, blob_store_from_settings
from tracewarn.server.distribution.publish import publish
from tracewarn.server.distribution.routes import blob_name
from tracewarn.server.testing import asgi_client
from tracewarn.server.verification.service import create_api_key

from .conftest import T0, payload_with_keys


def _exercise(store: BlobStore) -> None:
    store.put("a/b/index", b"one", content_type="application/json")
    store.put("a/b/index", b"two", content_type="application/json")
    store.put("a/c/index", b"PK..", content_type="application/zip")
    assert store.get("a/b/index") == b"two"
    assert store.get("a/missing") is None
    assert store.list("a/") == ["a/b/index", "a/c/index"]
    store.delete("a/b/index")
    store.delete("a/b/index")  # deleting twice is fine
    assert store.list("a/") == ["a/c/index"]
    for bad in ("", "/abs", "a/../b", "a//b", ".tmp-x/y"):
        with pytest.raises(ValueError):
            store.put(bad, b"", content_type="application/json")
        assert store.get(bad) is None


def test_filesystem_store(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    _exercise(store)
    (tmp_path / "a" / ".tmp-deadbeef-index").write_bytes(b"partial")
    assert store.list("") == ["a/c/index"], "temporaries are never listed"
    assert store.remove_temporaries() == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _client(endpoint: str) -> Any:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="cdn")
    return client


def test_s3_store_against_moto(s3_endpoint: str) -> None:
    client = _client(s3_endpoint)
    _exercise(S3BlobStore("cdn", prefix="tw", client=client))
    assert [o["Key"] for o in client.list_objects_v2(Bucket="cdn")["Contents"]] == ["tw/a/c/index"]
    client.close()


def test_publish_to_s3_from_settings(s3_endpoint: str, tmp_path: Path) -> None:
    _client(s3_endpoint).close()
    settings = Settings(
        data_dir=tmp_path / "data",
        blob_store="s3",
        s3_bucket="cdn",
        s3_endpoint_url=s3_endpoint,
        s3_prefix="cdn",
        min_uploads_per_batch=1,
        min_keys_to_publish=1,
    )
    assert isinstance(blob_store_from_settings(settings), S3BlobStore)
    now = [float(T0)]
    app = create_app(settings, clock=lambda: now[0])
    ctx = app.state.ctx
    with ctx.sessions.begin() as session:
        lab = create_api_key(session, ctx, kind="lab", label="lab")
    with asgi_client(app) as client:
        import hashlib

        code = client.post(
            "/version/v1/lab/results", json={"result": "positive"}, headers={"X-API-Key": lab}
        ).json()["code"]
        token = client.post(
            "/version/v1/registrationToken",
            json={"keyType": "GUID", "key": hashlib.sha256(code.encode()).hexdigest()},
        ).json()["registrationToken"]
        tan = client.post("/version/v1/tan", json={"registrationToken": token}).json()["tan"]
        payload = payload_with_keys(now[0], 5)
        r = client.post(
            "/version/v1/diagnosis-keys",
            content=payload.SerializeToString(),
            headers={"content-type": "application/x-protobuf", "cwa-authorization": tan},
        )
        assert r.status_code == 200
        now[0] += 2 * 86400
        publish(ctx)
        # The server serves from S3 too, with caching headers.
        days = client.get("/version/v1/diagnosis-keys/country/DE/date").json()
        pem = client.get("/version/v1/signing-keys").json()["keys"][0]["publicKeyPem"]
        found: set[bytes] = set()
        for day in days:
            z = client.get(f"/version/v1/diagnosis-keys/country/DE/date/{day}")
            assert z.headers["etag"] and z.headers["cache-control"] == "public,max-age=300"
            assert (
                client.get(
                    f"/version/v1/diagnosis-keys/country/DE/date/{day}",
                    headers={"If-None-Match": z.headers["etag"]},
                ).status_code
                == 304
            )
            found |= {
                k.key_data
                for k in verify_export(z.content, load_public_key(pem.encode())).export.keys
            }
    assert {k.key_data for k in payload.keys} <= found
    assert ctx.blobs.get(blob_name(layout.country_index())) == b'["DE"]'
    ctx.engine.dispose()
