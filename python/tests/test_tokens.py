"""Token caching and refusal: the shared vectors, then a real OpenID provider and server."""

from __future__ import annotations

import asyncio
import itertools
import os
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError

from open_vcluster import (
    Annotations,
    AsyncCachedToken,
    AsyncClient,
    CachedToken,
    Client,
    ClientCredentials,
    IssuedToken,
    Tokens,
    WatchEvent,
    async_client_credentials_token,
    client_credentials_token,
    compare_resource_versions,
    service_account_token,
)
from open_vcluster.api import (
    CreateVClusterRequest,
    GetVClusterRequest,
    GetVClusterResponse,
    ListVClustersRequest,
    VCluster,
    WatchEventType,
    WatchVClusterResponse,
)
from open_vcluster.errors import ApiError, UnauthenticatedError
from tests.support.server import REPO, ServerProcess, start_server
from tests.test_vectors import case_id, cases

ISSUER_SCRIPT = REPO / "packages" / "server" / "test" / "oidc-issuer-process.mjs"
CLIENT_ID, CLIENT_SECRET, RESOURCE = "ci", "machine-client-secret-0123456789", "urn:open-vcluster:api"
CEILING = 120.0


def issued_of(spec: dict[str, Any]) -> IssuedToken:
    if "error" in spec:
        raise ConnectionError(spec["error"])
    at = spec.get("expiresAtMs")
    return IssuedToken(spec["token"], None if at is None else at / 1000)


class VectorClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def refresh_before_of(case: dict[str, Any]) -> float:
    return float(case.get("refreshBeforeMs", Tokens.REFRESH_BEFORE_MS)) / 1000


@pytest.mark.parametrize("case", cases("token-cache", "cache"), ids=case_id)
def test_token_cache_sync(case: dict[str, Any]) -> None:
    issued = iter(case["issued"])
    fetches = 0

    def fetch() -> IssuedToken:
        nonlocal fetches
        fetches += 1
        return issued_of(next(issued))

    clock = VectorClock()
    cache = CachedToken(fetch, refresh_before=refresh_before_of(case), clock=clock)
    for step in case["steps"]:
        if step["op"] == "invalidate":
            cache.invalidate(step.get("refused"))
            continue
        clock.now = step["atMs"] / 1000
        if step.get("error"):
            with pytest.raises((ConnectionError, ValueError)):
                cache()
        else:
            assert cache() == step["token"]
        assert fetches == step["fetches"]


@pytest.mark.parametrize("case", cases("token-cache", "cache"), ids=case_id)
async def test_token_cache_async(case: dict[str, Any]) -> None:
    issued = iter(case["issued"])
    fetches = 0

    async def fetch() -> IssuedToken:
        nonlocal fetches
        fetches += 1
        return issued_of(next(issued))

    clock = VectorClock()
    cache = AsyncCachedToken(fetch, refresh_before=refresh_before_of(case), clock=clock)
    for step in case["steps"]:
        if step["op"] == "invalidate":
            cache.invalidate(step.get("refused"))
            continue
        clock.now = step["atMs"] / 1000
        if step.get("error"):
            with pytest.raises((ConnectionError, ValueError)):
                await cache()
        else:
            assert await cache() == step["token"]
        assert fetches == step["fetches"]


class Recorder:
    """A scripted GetVCluster: records each attempt's bearer token, answers with the script."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.sent: list[str] = []

    def answer(self, headers: dict[str, str]) -> GetVClusterResponse:
        self.sent.append(headers["authorization"].removeprefix("Bearer "))
        answer = self.answers.pop(0)
        if answer != "ok":
            raise ConnectError(Code[answer.upper()], "scripted")
        return GetVClusterResponse(vcluster=VCluster(name="a"))


def outcome_of(run: Callable[[], object]) -> str:
    try:
        run()
    except ApiError as error:
        return error.code.name.lower()
    return "ok"


@pytest.mark.parametrize("case", cases("token-cache", "unary"), ids=case_id)
def test_refusal_sync(case: dict[str, Any]) -> None:
    issued = iter(case["issued"])
    fetches = 0

    def fetch() -> str:
        nonlocal fetches
        fetches += 1
        return str(next(issued))

    token = CachedToken(fetch) if case["source"] == "cache" else fetch
    recorder = Recorder(case["answers"])
    with Client("http://127.0.0.1:9", token=token, retry=None) as client:

        def call(_request: object, *, headers: dict[str, str], timeout_ms: int | None) -> GetVClusterResponse:
            return recorder.answer(headers)

        outcome = "ok"
        for _ in range(case.get("calls", 1)):
            outcome = outcome_of(lambda: client._call("GetVCluster", call, GetVClusterRequest(name="a"), None))
    expect = case["expect"]
    assert (outcome, recorder.sent, fetches) == (expect["outcome"], expect["sent"], expect["fetches"])


@pytest.mark.parametrize("case", cases("token-cache", "unary"), ids=case_id)
async def test_refusal_async(case: dict[str, Any]) -> None:
    issued = iter(case["issued"])
    fetches = 0

    async def fetch() -> str:
        nonlocal fetches
        fetches += 1
        return str(next(issued))

    token: Callable[[], Awaitable[str]] = AsyncCachedToken(fetch) if case["source"] == "cache" else fetch
    recorder = Recorder(case["answers"])
    async with AsyncClient("http://127.0.0.1:9", token=token, retry=None) as client:

        async def call(_request: object, *, headers: dict[str, str], timeout_ms: int | None) -> GetVClusterResponse:
            return recorder.answer(headers)

        outcome = "ok"
        for _ in range(case.get("calls", 1)):
            try:
                await client._call("GetVCluster", call, GetVClusterRequest(name="a"), None)
                outcome = "ok"
            except ApiError as error:
                outcome = error.code.name.lower()
    expect = case["expect"]
    assert (outcome, recorder.sent, fetches) == (expect["outcome"], expect["sent"], expect["fetches"])


def test_concurrent_callers_share_one_fetch_sync() -> None:
    release = threading.Event()
    fetches = 0

    def fetch() -> str:
        nonlocal fetches
        fetches += 1
        release.wait(CEILING)
        return "shared"

    cache = CachedToken(fetch)
    results: queue.Queue[str] = queue.Queue()
    started = threading.Barrier(9)

    def caller() -> None:
        started.wait(CEILING)
        results.put(cache())

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    started.wait(CEILING)
    release.set()
    for thread in threads:
        thread.join(CEILING)
    assert fetches == 1
    assert [results.get_nowait() for _ in threads] == ["shared"] * 8


async def test_concurrent_awaits_share_one_fetch_and_survive_a_cancelled_caller() -> None:
    release = asyncio.Event()
    fetches = 0

    async def fetch() -> str:
        nonlocal fetches
        fetches += 1
        await release.wait()
        return "shared"

    cache = AsyncCachedToken(fetch)
    impatient = asyncio.ensure_future(cache())
    callers = [asyncio.ensure_future(cache()) for _ in range(8)]
    await asyncio.sleep(0)  # lets every caller reach the shared fetch (one loop turn, not a duration)
    impatient.cancel()
    release.set()
    assert await asyncio.gather(*callers) == ["shared"] * 8
    assert fetches == 1


def test_service_account_token_follows_the_file(tmp_path: Path) -> None:
    link = tmp_path / "token"

    def rotate(name: str, token: str) -> None:
        # The kubelet writes a new file and swaps a symlink onto it.
        target = tmp_path / name
        target.write_text(token + "\n")
        tmp = tmp_path / "token.tmp"
        tmp.symlink_to(target)
        os.replace(tmp, link)

    rotate("1", "first-token")
    cache = service_account_token(link)
    assert [cache() for _ in range(3)] == ["first-token"] * 3
    rotate("2", "second-token")
    assert cache() == "second-token"
    link.unlink()
    with pytest.raises(FileNotFoundError):
        cache()


def test_client_credentials_checks_its_configuration() -> None:
    with pytest.raises(ValueError, match=r"client_id is required; issuer must be an http\(s\) URL"):
        ClientCredentials(client_id="", client_secret="s", issuer="ftp://issuer")
    with pytest.raises(ValueError, match="issuer or token_url is required"):
        ClientCredentials(client_id="a", client_secret="s")


# --- against a real OpenID provider and the reference server ---------------------------------


def start_issuer(ttl: int) -> ServerProcess:
    return ServerProcess(
        ["--ttl", str(ttl), "--client", CLIENT_ID, "--secret", CLIENT_SECRET, "--resource", RESOURCE,
         "--groups", "platform-admins"],
        ISSUER_SCRIPT,
    ).start()  # fmt: skip


@pytest.fixture
def oidc(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """An issuer whose tokens live ``request.param`` seconds, and a server that accepts them."""
    issuer = start_issuer(getattr(request, "param", 3600))
    config = tmp_path / "auth.yaml"
    config.write_text(
        "authenticators:\n  - oidc:\n"
        f"      issuer: {issuer.url}\n      audiences: [vcluster-api]\n      clockSkewSeconds: 0\n"
        "      claims:\n        adminGroups: [platform-admins]\n"
    )
    server = start_server("--auth-config", str(config))
    yield issuer, server
    server.stop()
    issuer.stop()


def counted(fetch: ClientCredentials) -> tuple[Callable[[], IssuedToken], list[int]]:
    count = [0]

    def wrapped() -> IssuedToken:
        count[0] += 1
        return fetch()

    return wrapped, count


def credentials(issuer: ServerProcess) -> ClientCredentials:
    return ClientCredentials(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, issuer=issuer.url, scope="vclusters", resource=RESOURCE
    )


def test_one_token_serves_many_calls(oidc: tuple[ServerProcess, ServerProcess]) -> None:
    issuer, server = oidc
    fetch, count = counted(credentials(issuer))
    with Client(server.url, token=CachedToken(fetch)) as client:
        for _ in range(20):
            client.list_vclusters(ListVClustersRequest())
    assert count == [1]
    with Client(server.url) as anonymous, pytest.raises(UnauthenticatedError):
        anonymous.list_vclusters(ListVClustersRequest())


async def test_async_client_credentials(oidc: tuple[ServerProcess, ServerProcess]) -> None:
    issuer, server = oidc
    token = async_client_credentials_token(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, issuer=issuer.url, scope="vclusters", resource=RESOURCE
    )
    async with AsyncClient(server.url, token=token) as client:
        results = await asyncio.gather(*(client.list_vclusters(ListVClustersRequest()) for _ in range(10)))
    assert len(results) == 10


def test_refused_token_is_replaced_and_the_call_sent_once(oidc: tuple[ServerProcess, ServerProcess]) -> None:
    issuer, server = oidc
    real = client_credentials_token(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, issuer=issuer.url, scope="vclusters", resource=RESOURCE
    )
    fetches = 0

    def fetch() -> IssuedToken:
        # The first token looks valid for an hour but the server refuses it (revoked, rotated key).
        nonlocal fetches
        fetches += 1
        return IssuedToken("revoked-token", 4_102_444_800) if fetches == 1 else IssuedToken(real())

    with Client(server.url, token=CachedToken(fetch), retry=None) as client:
        client.create_vcluster(CreateVClusterRequest(name="after-refusal"))
        for _ in range(5):
            client.get_vcluster(GetVClusterRequest(name="after-refusal"))
        assert fetches == 2
        assert [v.name for v in client.list_vclusters(ListVClustersRequest()).vclusters] == ["after-refusal"]


TTL = 12
"""Token lifetime of the rotation tests; refreshing ``MARGIN`` s before expiry leaves every
reconnected stream that long to deliver its first message (heartbeats come every 0.5 s) before
its token expires, even on a heavily loaded machine."""
MARGIN = 8


def check_no_gap(seen: list[WatchEvent], names: list[str]) -> None:
    assert [e.vcluster.name for e in seen if e.type == WatchEventType.ADDED] == names
    versions = [e.resource_version for e in seen]
    assert all(compare_resource_versions(a, b) < 0 for a, b in itertools.pairwise(versions))


@pytest.mark.parametrize("oidc", [TTL], indirect=True)
@pytest.mark.parametrize("protocol", ["connect", "grpc"])
def test_sync_watch_outlives_three_token_rotations(oidc: tuple[ServerProcess, ServerProcess], protocol: str) -> None:
    issuer, server = oidc
    fetch, count = counted(credentials(issuer))
    refusals: queue.Queue[None] = queue.Queue()
    events: queue.Queue[WatchEvent | BaseException] = queue.Queue()

    def on_status(status: str, error: ApiError | None) -> None:
        if status == "reconnecting" and error is not None and error.code == Code.UNAUTHENTICATED:
            refusals.put(None)

    with Client(server.url, protocol=protocol, token=CachedToken(fetch, refresh_before=MARGIN)) as client:  # type: ignore[arg-type]
        watch = client.watch(on_status=on_status)

        def consume() -> None:
            try:
                for event in watch:
                    events.put(event)
            except BaseException as error:
                events.put(error)

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        seen: list[WatchEvent] = []

        def await_added(name: str) -> None:
            while True:
                item = events.get(timeout=CEILING)
                if isinstance(item, BaseException):
                    raise item
                seen.append(item)
                if item.type == WatchEventType.ADDED and item.vcluster.name == name:
                    return

        names: list[str] = []
        for rotation in range(1, 4):
            client.create_vcluster(CreateVClusterRequest(name=f"before-{rotation}"))
            await_added(f"before-{rotation}")
            refusals.get(timeout=CEILING)  # the token expired and the server ended the stream
            client.create_vcluster(CreateVClusterRequest(name=f"during-{rotation}"))
            await_added(f"during-{rotation}")
            names += [f"before-{rotation}", f"during-{rotation}"]
        watch.close()
        client.create_vcluster(CreateVClusterRequest(name="wakes-the-closed-watch"))
        consumer.join(CEILING)
    check_no_gap(seen, names)
    assert count[0] >= 4


@pytest.mark.parametrize("oidc", [TTL], indirect=True)
async def test_async_watch_outlives_three_token_rotations(oidc: tuple[ServerProcess, ServerProcess]) -> None:
    issuer, server = oidc
    fetch, count = counted(credentials(issuer))

    async def fetch_async() -> IssuedToken:
        return await asyncio.to_thread(fetch)

    refusals: asyncio.Queue[None] = asyncio.Queue()

    def on_status(status: str, error: ApiError | None) -> None:
        if status == "reconnecting" and error is not None and error.code == Code.UNAUTHENTICATED:
            refusals.put_nowait(None)

    async with AsyncClient(server.url, token=AsyncCachedToken(fetch_async, refresh_before=MARGIN)) as client:
        watch = client.watch(on_status=on_status)
        stream = aiter(watch)
        seen: list[WatchEvent] = []

        async def await_added(name: str) -> None:
            while True:
                event = await asyncio.wait_for(anext(stream), CEILING)
                seen.append(event)
                if event.type == WatchEventType.ADDED and event.vcluster.name == name:
                    return

        names: list[str] = []
        for rotation in range(1, 4):
            await client.create_vcluster(CreateVClusterRequest(name=f"before-{rotation}"))
            await await_added(f"before-{rotation}")
            # The stream's token expires: the server ends it and the watch reconnects while
            # the next vcluster is created.
            reconnected = asyncio.ensure_future(await_added(f"during-{rotation}"))
            await asyncio.wait_for(refusals.get(), CEILING)
            await client.create_vcluster(CreateVClusterRequest(name=f"during-{rotation}"))
            await reconnected
            names += [f"before-{rotation}", f"during-{rotation}"]
        watch.close()
    check_no_gap(seen, names)
    assert count[0] >= 4


HEARTBEAT = WatchVClusterResponse(vcluster=VCluster(annotations={Annotations.RESOURCE_VERSION: "7"}))


class ScriptedStreams:
    """Stands in for the generated watch client: each opened stream follows the next script entry."""

    def __init__(self, streams: list[str]) -> None:
        self.streams = list(streams)
        self.sent: list[str] = []
        self.changed = threading.Condition()
        self.release = threading.Event()

    def next(self, headers: dict[str, str]) -> str:
        with self.changed:
            self.sent.append(headers["authorization"].removeprefix("Bearer "))
            self.changed.notify_all()
            return self.streams.pop(0)

    def watch_v_cluster(
        self, _request: object, *, headers: dict[str, str], timeout_ms: int | None
    ) -> Iterator[WatchVClusterResponse]:
        stream = self.next(headers)

        def messages() -> Iterator[WatchVClusterResponse]:
            if stream == "open":
                yield HEARTBEAT
                self.release.wait(CEILING)
                return
            if stream == "events_then_unauthenticated":
                yield HEARTBEAT
                raise ConnectError(Code.UNAUTHENTICATED, "credentials expired")
            raise ConnectError(Code[stream.upper()], "scripted")

        return messages()


class AsyncScriptedStreams(ScriptedStreams):
    def __init__(self, streams: list[str]) -> None:
        super().__init__(streams)
        self.async_release = asyncio.Event()

    def watch_v_cluster(  # type: ignore[override]
        self, _request: object, *, headers: dict[str, str], timeout_ms: int | None
    ) -> AsyncIterator[WatchVClusterResponse]:
        stream = self.next(headers)

        async def messages() -> AsyncIterator[WatchVClusterResponse]:
            if stream == "open":
                yield HEARTBEAT
                await self.async_release.wait()
                return
            if stream == "events_then_unauthenticated":
                yield HEARTBEAT
                raise ConnectError(Code.UNAUTHENTICATED, "credentials expired")
            raise ConnectError(Code[stream.upper()], "scripted")

        return messages()


@pytest.mark.parametrize("case", cases("token-cache", "watch"), ids=case_id)
def test_watch_refusal_sync(case: dict[str, Any]) -> None:
    issued = iter(case["issued"])
    fetches = 0

    def fetch() -> str:
        nonlocal fetches
        fetches += 1
        return str(next(issued))

    streams = ScriptedStreams(case["streams"])
    expect = case["expect"]
    with Client("http://127.0.0.1:9", token=CachedToken(fetch), retry=None, random=lambda: 0) as client:
        client._watches = streams  # type: ignore[assignment]
        watch = client.watch()
        outcome: list[str | None] = []

        def consume() -> None:
            try:
                for _ in watch:
                    pass
                outcome.append(None)
            except ApiError as error:
                outcome.append(error.code.name.lower())

        consumer = threading.Thread(target=consume)
        consumer.start()
        if expect["error"] is None:
            with streams.changed:
                assert streams.changed.wait_for(lambda: len(streams.sent) == len(case["streams"]), CEILING)
            watch.close()
            streams.release.set()
        consumer.join(CEILING)
    assert (outcome, streams.sent, fetches) == ([expect["error"]], expect["sent"], expect["fetches"])


@pytest.mark.parametrize("case", cases("token-cache", "watch"), ids=case_id)
async def test_watch_refusal_async(case: dict[str, Any]) -> None:
    issued = iter(case["issued"])
    fetches = 0

    async def fetch() -> str:
        nonlocal fetches
        fetches += 1
        return str(next(issued))

    streams = AsyncScriptedStreams(case["streams"])
    expect = case["expect"]
    async with AsyncClient("http://127.0.0.1:9", token=AsyncCachedToken(fetch), retry=None, random=lambda: 0) as client:
        client._watches = streams  # type: ignore[assignment]

        def on_bookmark(_version: str) -> None:
            # The last stream delivered its heartbeat: the script is played out.
            if len(streams.sent) == len(case["streams"]) and expect["error"] is None:
                watch.close()

        watch = client.watch(on_bookmark=on_bookmark)

        async def consume() -> str | None:
            try:
                async for _ in watch:
                    pass
                return None
            except ApiError as error:
                return error.code.name.lower()

        outcome = await asyncio.wait_for(consume(), CEILING)
    assert (outcome, streams.sent, fetches) == (expect["error"], expect["sent"], expect["fetches"])


def test_watch_retries_while_no_token_can_be_fetched() -> None:
    # The issuer is down when the watch opens: the stream is not opened without credentials,
    # and the watch reconnects (with backoff) until a token can be fetched.
    fetches = 0

    def fetch() -> str:
        nonlocal fetches
        fetches += 1
        if fetches == 1:
            raise ConnectionError("issuer down")
        return "good"

    streams = ScriptedStreams(["open"])
    reconnects: list[ApiError] = []
    with Client("http://127.0.0.1:9", token=CachedToken(fetch), random=lambda: 0) as client:
        client._watches = streams  # type: ignore[assignment]

        def on_status(status: str, error: ApiError | None) -> None:
            if status == "reconnecting" and error is not None:
                reconnects.append(error)

        watch = client.watch(on_status=on_status)
        consumer = threading.Thread(target=lambda: [None for _ in watch])
        consumer.start()
        with streams.changed:
            assert streams.changed.wait_for(lambda: len(streams.sent) == 1, CEILING)
        watch.close()
        streams.release.set()
        consumer.join(CEILING)
    assert (streams.sent, fetches) == (["good"], 2)
    assert [(e.code, "issuer down" in e.message) for e in reconnects] == [(Code.UNAVAILABLE, True)]
