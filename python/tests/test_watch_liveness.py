"""A stream without messages or heartbeats for heartbeat_timeout is dead: the watch replaces it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from open_vcluster import ApiError, AsyncClient, Client, ConnectionStatus, WatchSettings
from open_vcluster.api import CreateVClusterRequest, WatchVClusterRequest
from open_vcluster.errors import DeadlineExceededError
from tests.support.server import ServerProcess, start_server

SILENT_FOR = WatchSettings(backoff_initial=0.05, backoff_max=0.2, heartbeat_timeout=1.0)


@pytest.fixture(scope="module")
def quiet_server() -> Iterator[ServerProcess]:
    # Heartbeats once a minute: far longer than the client's liveness timeout.
    server = start_server("--heartbeat-interval", "60000", time_scale="0")
    yield server
    server.stop()


def test_sync_watch_replaces_a_silent_stream(quiet_server: ServerProcess) -> None:
    reconnects: list[ApiError | None] = []
    dead = threading.Event()

    def on_status(status: ConnectionStatus, error: ApiError | None) -> None:
        if status == "reconnecting":
            reconnects.append(error)
            dead.set()

    with Client(quiet_server.url, watch=SILENT_FOR) as client:
        client.create_vcluster(CreateVClusterRequest(name="quiet"))
        watch = client.watch(WatchVClusterRequest(), on_status=on_status)
        events = iter(watch)
        first = next(events)
        assert first.vcluster.name == "quiet"

        def close_once_dead() -> None:
            dead.wait(60)
            watch.close()

        threading.Thread(target=close_once_dead, daemon=True).start()
        for _ in events:
            pass  # the replacement stream replays nothing new; close() ends the iteration
    assert isinstance(reconnects[0], DeadlineExceededError)


async def test_async_watch_replaces_a_silent_stream(quiet_server: ServerProcess) -> None:
    dead = asyncio.Event()
    reasons: list[ApiError | None] = []

    def on_status(status: ConnectionStatus, error: ApiError | None) -> None:
        if status == "reconnecting":
            reasons.append(error)
            dead.set()

    async with AsyncClient(quiet_server.url, watch=SILENT_FOR) as client:
        watch = client.watch(WatchVClusterRequest(name="quiet"), on_status=on_status)

        async def consume() -> None:
            async for _ in watch:
                pass

        task = asyncio.create_task(consume())
        await asyncio.wait_for(dead.wait(), 60)
        watch.close()
        await asyncio.wait_for(task, 60)
    assert isinstance(reasons[0], DeadlineExceededError)
