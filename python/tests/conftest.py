from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import ServerProcess, start_server

PROTOCOLS = ["connect", "grpc", "grpc-web"]


@pytest.fixture(scope="session")
def server() -> Iterator[ServerProcess]:
    """One shared server for tests that use names of their own."""
    process = start_server()
    yield process
    process.stop()


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value
