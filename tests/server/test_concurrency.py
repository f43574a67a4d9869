"""Races: a code registered and a TAN redeemed by many clients at once succeed exactly once."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

from .conftest import Server, payload_with_keys

RACERS = 12


def test_one_code_registers_once_under_concurrency(server: Server) -> None:
    key = hashlib.sha256(server.code().encode()).hexdigest()

    def attempt(_: int) -> int:
        return server.client.post(
            "/version/v1/registrationToken", json={"keyType": "GUID", "key": key}
        ).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        statuses = sorted(pool.map(attempt, range(RACERS)))
    assert statuses == [201] + [400] * (RACERS - 1)


def test_one_tan_uploads_once_under_concurrency(server: Server) -> None:
    tan = server.tan()
    bodies = [payload_with_keys(server.now[0], 2).SerializeToString() for _ in range(RACERS)]

    def attempt(i: int) -> int:
        return server.client.post(
            "/version/v1/diagnosis-keys",
            content=bodies[i],
            headers={"content-type": "application/x-protobuf", "cwa-authorization": tan},
        ).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        statuses = sorted(pool.map(attempt, range(RACERS)))
    assert statuses == [200] + [403] * (RACERS - 1)
