"""An informer converges through server restarts and emits the changes it missed while disconnected."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

from open_vcluster import AsyncClient, CacheEvent, Client, Protocol, WatchSettings
from open_vcluster.api import CreateVClusterRequest, DeleteVClusterRequest, WatchEventType
from tests.support.server import ServerProcess, start_server

FAST_RECONNECT = WatchSettings(backoff_initial=0.05, backoff_max=0.5, heartbeat_timeout=3.0)
CEILING = 90.0


class Recorder:
    """Collects an informer's events and lets a test wait for a state they lead to."""

    def __init__(self) -> None:
        self.events: list[tuple[WatchEventType, str]] = []
        self._changed = threading.Condition()

    def __call__(self, event: CacheEvent) -> None:
        with self._changed:
            self.events.append((event.type, event.vcluster.name))
            self._changed.notify_all()

    def wait(self, done: Callable[[], bool]) -> None:
        with self._changed:
            assert self._changed.wait_for(done, CEILING), f"not reached; events so far: {self.events}"


def change_while_away(store: str) -> None:
    """Another server on the same store changes it while the informer's server is down."""
    other = start_server(store=store, time_scale="0")
    try:
        with Client(other.url) as client:
            client.create_vcluster(CreateVClusterRequest(name="made-while-away"))
            client.delete_vcluster(DeleteVClusterRequest(name="alpha", force=True))
            client.wait_until_deleted("alpha", timeout=CEILING)
    finally:
        other.stop()


def restart(server: ServerProcess, store: str) -> ServerProcess:
    return start_server("--port", str(server.port), store=store, time_scale="0")


def test_sync_informer_converges_through_restarts(tmp_path: Path, protocol: Protocol) -> None:
    store = f"sqlite:{tmp_path / 'vc.db'}"
    server = start_server(store=store, time_scale="0")
    try:
        with Client(server.url, protocol=protocol, watch=FAST_RECONNECT) as client:
            for name in ("alpha", "beta"):
                client.create_vcluster(CreateVClusterRequest(name=name))
            recorder = Recorder()
            informer = client.informer()
            informer.add_handler(recorder)
            with informer:
                informer.wait_for_sync(CEILING)
                assert informer.has_synced
                recorder.wait(lambda: {n for _, n in recorder.events} >= {"alpha", "beta"})

                server.stop()
                change_while_away(store)
                server = restart(server, store)
                client.create_vcluster(CreateVClusterRequest(name="after-restart"))

                def names() -> set[str]:
                    return {v.name for v in informer.list()}

                recorder.wait(lambda: names() == {"beta", "made-while-away", "after-restart"})
                assert (WatchEventType.DELETED, "alpha") in recorder.events
                assert (WatchEventType.ADDED, "made-while-away") in recorder.events

                # A second restart, with nothing changed in between, keeps the cache as it is.
                server.stop()
                server = restart(server, store)
                client.create_vcluster(CreateVClusterRequest(name="after-second-restart"))
                recorder.wait(lambda: "after-second-restart" in names())
                assert names() == {"beta", "made-while-away", "after-restart", "after-second-restart"}
                assert informer.error is None
    finally:
        server.stop()


async def test_async_informer_converges_through_a_restart(tmp_path: Path) -> None:
    store = f"sqlite:{tmp_path / 'vc.db'}"
    server = start_server(store=store, time_scale="0")
    try:
        async with AsyncClient(server.url, watch=FAST_RECONNECT) as client:
            await client.create_vcluster(CreateVClusterRequest(name="alpha"))
            informer = client.informer()
            events = informer.events()  # every change from here on, the initial list included
            async with informer:
                await informer.wait_for_sync(CEILING)
                first = await asyncio.wait_for(anext(events), CEILING)
                assert (first.type, first.vcluster.name) == (WatchEventType.ADDED, "alpha")

                await asyncio.to_thread(server.stop)
                await asyncio.to_thread(change_while_away, store)
                server = await asyncio.to_thread(restart, server, store)
                await client.create_vcluster(CreateVClusterRequest(name="after-restart"))

                seen: list[tuple[WatchEventType, str]] = []
                while {v.name for v in informer.list()} != {"made-while-away", "after-restart"}:
                    event = await asyncio.wait_for(anext(events), CEILING)
                    seen.append((event.type, event.vcluster.name))
                assert (WatchEventType.DELETED, "alpha") in seen
                assert (WatchEventType.ADDED, "made-while-away") in seen
                await events.aclose()
    finally:
        server.stop()
