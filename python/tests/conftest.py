from __future__ import annotations

from collections.abc import Iterator

import pytest

from open_vcluster import Protocol
from tests.support.server import ServerProcess, start_server

PROTOCOLS: list[Protocol] = ["connect", "grpc", "grpc-web"]


@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    """One shared server for tests that use names of their own."""
    process = start_server()
    yield process
    process.stop()


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> Protocol:
    value: Protocol = request.param
    return value
