"""A WatchVCluster stream that survives disconnects, in a sync and an async form.

Both resume from the newest version seen, skip replayed events, treat a stream without
messages or heartbeats for ``heartbeat_timeout`` as dead (the HTTP read timeout of the
watch's own connection), reconnect with full-jitter backoff, and end only when closed or
with an error retrying cannot fix (credentials, permissions, an invalid request, or an
expired version — the cue to list again, which the informer does).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, suppress
from dataclasses import dataclass
from typing import Literal

from connectrpc.code import Code

from ._gen.constants import Annotations
from ._retry import Backoff, Clock, Random
from .api import VCluster, WatchEventType, WatchVClusterRequest, WatchVClusterResponse
from .errors import ApiError, DeadlineExceededError, ResourceVersionExpiredError, WatchEndedError

ConnectionStatus = Literal["connecting", "connected", "reconnecting", "closed"]
"""Connection state of a resumable watch."""

_PERMANENT = frozenset({Code.UNAUTHENTICATED, Code.PERMISSION_DENIED, Code.INVALID_ARGUMENT, Code.UNIMPLEMENTED})


@dataclass(frozen=True)
class WatchEvent:
    """One change delivered by a watch (heartbeats are consumed internally)."""

    type: WatchEventType
    """ADDED, MODIFIED or DELETED."""
    vcluster: VCluster
    """The object after the change; for DELETED its final state."""
    resource_version: str


@dataclass(frozen=True)
class WatchSettings:
    """Reconnect and liveness settings of every watch a client opens."""

    backoff_initial: float = 0.8
    """Upper bound of the first reconnect delay, in seconds (full jitter)."""
    backoff_max: float = 30.0
    heartbeat_timeout: float = 15.0
    """A stream silent this long is dead: three of the server's 5 s heartbeats."""


def resource_version_of(vcluster: VCluster | None) -> str:
    """The resource version the server stamped on the object; ``""`` when absent."""
    if vcluster is None:
        return ""
    return vcluster.annotations.get(Annotations.RESOURCE_VERSION, "")


def compare_resource_versions(a: str, b: str) -> int:
    """Orders two resource versions (decimal strings, ``""`` lowest) without converting them."""
    x, y = a.lstrip("0") or ("0" if a else ""), b.lstrip("0") or ("0" if b else "")
    if len(x) != len(y):
        return len(x) - len(y)
    return (x > y) - (x < y)


def newer(a: str, b: str) -> str:
    return a if compare_resource_versions(a, b) >= 0 else b


def ends_watch(error: ApiError) -> bool:
    """Whether a failure must end the watch rather than trigger a reconnect."""
    return error.code in _PERMANENT or isinstance(error, ResourceVersionExpiredError)


class WatchState:
    """Which messages are new and where the next stream resumes (shared by both forms).

    A watch from ``""`` first receives the current state as ADDED events in no version order,
    so de-duplication by version starts only at the first heartbeat, which marks the end of
    that initial state; until then a reconnect starts over from ``""``.
    """

    def __init__(self, resource_version: str = "") -> None:
        self.resource_version = resource_version
        self._initial_state = resource_version == ""
        self._initial_newest = ""

    def accept(self, message: WatchVClusterResponse) -> WatchEvent | str | None:
        """The event to deliver, the bookmark version (a str) of a heartbeat, or None for a replay."""
        version = resource_version_of(message.vcluster)
        if message.type in (WatchEventType.UNSPECIFIED, WatchEventType.ERROR):
            self._initial_state = False
            self.resource_version = newer(newer(self.resource_version, self._initial_newest), version)
            return version
        if message.vcluster is None:
            return None
        if self._initial_state:
            self._initial_newest = newer(self._initial_newest, version)
        elif compare_resource_versions(version, self.resource_version) > 0:
            self.resource_version = version
        else:
            return None
        return WatchEvent(message.type, message.vcluster, version)


class _Status:
    def __init__(self, on_status: Callable[[ConnectionStatus, ApiError | None], None] | None) -> None:
        self.value: ConnectionStatus = "connecting"
        self._on_status = on_status

    def set(self, status: ConnectionStatus, error: ApiError | None = None) -> None:
        if self.value == status:
            return
        self.value = status
        if self._on_status is not None:
            self._on_status(status, error)


OpenStream = Callable[[WatchVClusterRequest, int | None], AbstractContextManager[Iterator[WatchVClusterResponse]]]
"""Opens one stream: the request and the stream's timeout in milliseconds (None: open-ended)."""
OpenAsyncStream = Callable[
    [WatchVClusterRequest, int | None], AbstractAsyncContextManager[AsyncIterator[WatchVClusterResponse]]
]
OnStatus = Callable[[ConnectionStatus, ApiError | None], None]


class _Deadline:
    """An optional end of the whole watch (waiters use it); a watch without one is open-ended."""

    def __init__(self, deadline: float | None, clock: Clock) -> None:
        self._deadline = deadline
        self._clock = clock

    def left(self) -> float | None:
        return None if self._deadline is None else self._deadline - self._clock()

    def timeout_ms(self) -> int | None:
        left = self.left()
        if left is None:
            return None
        if left <= 0:
            raise DeadlineExceededError(Code.DEADLINE_EXCEEDED, "the watch reached its deadline")
        return max(1, math.ceil(left * 1000))

    def expired(self) -> bool:
        left = self.left()
        return left is not None and left <= 0

    def clamp(self, delay: float) -> float:
        left = self.left()
        return delay if left is None else max(0.0, min(delay, left))


def _request(base: WatchVClusterRequest, version: str) -> WatchVClusterRequest:
    return WatchVClusterRequest(
        name=base.name, namespace=base.namespace, label_selector=base.label_selector, resource_version=version
    )


class _CredentialRefresh:
    """A refused stream (its token expired or was revoked) drops that token and reconnects at once.

    Once: refused again before a stream delivers a message, the watch ends, because then the
    credentials themselves are wrong.
    """

    def __init__(self, refresh: Callable[[], bool] | None) -> None:
        self._refresh = refresh
        self._refreshed = False

    def retry(self, error: ApiError) -> bool:
        if error.code != Code.UNAUTHENTICATED or self._refreshed or self._refresh is None or not self._refresh():
            return False
        self._refreshed = True
        return True

    def delivered(self) -> None:
        self._refreshed = False


class Watch:
    """A resumable watch (sync). Iterate it; :meth:`close` (from any thread) ends the iteration."""

    def __init__(
        self,
        open_stream: OpenStream,
        request: WatchVClusterRequest,
        *,
        settings: WatchSettings,
        random: Random,
        on_status: OnStatus | None = None,
        on_bookmark: Callable[[str], None] | None = None,
        deadline: float | None = None,
        clock: Clock = time.monotonic,
        refresh_credentials: Callable[[], bool] | None = None,
    ) -> None:
        self._credentials = _CredentialRefresh(refresh_credentials)
        self._deadline = _Deadline(deadline, clock)
        self._open_stream = open_stream
        self._request = request
        self._state = WatchState(request.resource_version)
        self._backoff = Backoff(settings.backoff_initial, settings.backoff_max, random)
        self._status = _Status(on_status)
        self._on_bookmark = on_bookmark
        self._closed = threading.Event()
        self._started = False

    @property
    def status(self) -> ConnectionStatus:
        return self._status.value

    @property
    def resource_version(self) -> str:
        """The newest version delivered or bookmarked; where the next stream resumes."""
        return self._state.resource_version

    def close(self) -> None:
        """Ends the watch; the iteration finishes after the stream's next message or timeout."""
        self._closed.set()

    def __iter__(self) -> Iterator[WatchEvent]:
        if self._started:
            raise RuntimeError("a watch can be iterated only once; create another for a second consumer")
        self._started = True
        return self._run()

    def _run(self) -> Iterator[WatchEvent]:
        opened = False
        try:
            while not self._closed.is_set():
                self._status.set("reconnecting" if opened else "connecting")
                opened = True
                failure: ApiError
                try:
                    yield from self._stream_once()
                    if self._closed.is_set():
                        return
                    failure = WatchEndedError(Code.UNAVAILABLE, "watch stream ended by the server")
                except ApiError as error:
                    if self._closed.is_set():
                        return
                    if self._credentials.retry(error):
                        self._status.set("reconnecting", error)
                        continue
                    if ends_watch(error):
                        raise
                    if self._deadline.expired():
                        raise DeadlineExceededError(Code.DEADLINE_EXCEEDED, "the watch reached its deadline") from error
                    failure = error
                self._status.set("reconnecting", failure)
                self._closed.wait(self._deadline.clamp(self._backoff.next()))
        finally:
            self._status.set("closed")

    def _stream_once(self) -> Iterator[WatchEvent]:
        with self._open_stream(
            _request(self._request, self._state.resource_version), self._deadline.timeout_ms()
        ) as stream:
            for message in stream:
                if self._closed.is_set():
                    return
                self._status.set("connected")
                self._backoff.reset()
                self._credentials.delivered()
                outcome = self._state.accept(message)
                if isinstance(outcome, str):
                    if self._on_bookmark is not None:
                        self._on_bookmark(outcome)
                elif outcome is not None:
                    yield outcome


class AsyncWatch:
    """A resumable watch (async). ``async for`` it; :meth:`close` ends the iteration."""

    def __init__(
        self,
        open_stream: OpenAsyncStream,
        request: WatchVClusterRequest,
        *,
        settings: WatchSettings,
        random: Random,
        on_status: OnStatus | None = None,
        on_bookmark: Callable[[str], None] | None = None,
        deadline: float | None = None,
        clock: Clock = time.monotonic,
        refresh_credentials: Callable[[], bool] | None = None,
    ) -> None:
        self._credentials = _CredentialRefresh(refresh_credentials)
        self._deadline = _Deadline(deadline, clock)
        self._open_stream = open_stream
        self._request = request
        self._state = WatchState(request.resource_version)
        self._backoff = Backoff(settings.backoff_initial, settings.backoff_max, random)
        self._status = _Status(on_status)
        self._on_bookmark = on_bookmark
        self._closed = asyncio.Event()
        self._started = False

    @property
    def status(self) -> ConnectionStatus:
        return self._status.value

    @property
    def resource_version(self) -> str:
        """The newest version delivered or bookmarked; where the next stream resumes."""
        return self._state.resource_version

    def close(self) -> None:
        """Ends the watch: the iteration finishes."""
        self._closed.set()

    def __aiter__(self) -> AsyncIterator[WatchEvent]:
        if self._started:
            raise RuntimeError("a watch can be iterated only once; create another for a second consumer")
        self._started = True
        return self._run()

    async def _run(self) -> AsyncIterator[WatchEvent]:
        opened = False
        try:
            while not self._closed.is_set():
                self._status.set("reconnecting" if opened else "connecting")
                opened = True
                failure: ApiError
                try:
                    async for event in self._stream_once():
                        yield event
                    if self._closed.is_set():
                        return
                    failure = WatchEndedError(Code.UNAVAILABLE, "watch stream ended by the server")
                except ApiError as error:
                    if self._closed.is_set():
                        return
                    if self._credentials.retry(error):
                        self._status.set("reconnecting", error)
                        continue
                    if ends_watch(error):
                        raise
                    if self._deadline.expired():
                        raise DeadlineExceededError(Code.DEADLINE_EXCEEDED, "the watch reached its deadline") from error
                    failure = error
                self._status.set("reconnecting", failure)
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._closed.wait(), self._deadline.clamp(self._backoff.next()))
        finally:
            self._status.set("closed")

    async def _stream_once(self) -> AsyncIterator[WatchEvent]:
        request = _request(self._request, self._state.resource_version)
        async with self._open_stream(request, self._deadline.timeout_ms()) as stream:
            closed = asyncio.ensure_future(self._closed.wait())
            receive: asyncio.Future[WatchVClusterResponse] | None = None
            try:
                while True:
                    receive = asyncio.ensure_future(anext(stream))
                    done, _ = await asyncio.wait({receive, closed}, return_when=asyncio.FIRST_COMPLETED)
                    if receive not in done:
                        return
                    try:
                        message = receive.result()
                    except StopAsyncIteration:
                        return
                    receive = None
                    self._status.set("connected")
                    self._backoff.reset()
                    self._credentials.delivered()
                    outcome = self._state.accept(message)
                    if isinstance(outcome, str):
                        if self._on_bookmark is not None:
                            self._on_bookmark(outcome)
                    elif outcome is not None:
                        yield outcome
            finally:
                closed.cancel()
                # A read still in flight (closed, or the consumer cancelled) must end before the
                # stream is closed under it.
                if receive is not None and not receive.done():
                    receive.cancel()
                    await asyncio.gather(receive, return_exceptions=True)
