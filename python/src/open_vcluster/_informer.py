"""A local, always-converging view of the server's vclusters (client-go's informer in small).

:class:`Informer` runs in a background thread, :class:`AsyncInformer` in an asyncio task; both
list, watch from the list's version, and on an expired version list again and emit the
changes the consumer missed.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import queue
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Generic, TypeVar

from ._cache import CacheEvent, CacheStore, Reflection
from ._paging import Page
from ._retry import Backoff, Random
from ._watch import AsyncWatch, ConnectionStatus, OnStatus, Watch, ends_watch
from .api import VCluster
from .errors import ApiError, ResourceVersionExpiredError

W = TypeVar("W", Watch, AsyncWatch)

Handler = Callable[[CacheEvent], None]
MakeWatch = Callable[[str, OnStatus, Callable[[str], None]], W]


class _InformerBase(Generic[W]):
    def __init__(self, make_watch: MakeWatch[W], *, random: Random, list_backoff: tuple[float, float]) -> None:
        self._make_watch: MakeWatch[W] = make_watch
        self._random = random
        self._list_backoff = list_backoff
        self._store = CacheStore()
        self._lock = threading.Lock()
        self._handlers: list[Handler] = []
        self._synced = False
        self._status: ConnectionStatus = "connecting"
        self._failure: BaseException | None = None
        self._watch: W | None = None

    @property
    def has_synced(self) -> bool:
        """True once the first full list has been applied."""
        return self._synced

    @property
    def status(self) -> ConnectionStatus:
        return self._status

    @property
    def error(self) -> BaseException | None:
        """The error that stopped the informer, if one did."""
        return self._failure

    def get(self, name: str, namespace: str = "default") -> VCluster | None:
        """The cached vcluster, or None."""
        with self._lock:
            return self._store.get(namespace, name)

    def get_by_id(self, vcluster_id: str) -> VCluster | None:
        with self._lock:
            return self._store.get_by_id(vcluster_id)

    def list(self) -> list[VCluster]:
        """Every cached vcluster."""
        with self._lock:
            return self._store.list()

    def add_handler(self, handler: Handler) -> Callable[[], None]:
        """Calls ``handler`` with every change from now on (on the informer's thread or task).

        Returns a function that removes it.
        """
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler) if handler in self._handlers else None

    def _emit(self, changes: builtins.list[CacheEvent]) -> None:
        for change in changes:
            for handler in list(self._handlers):
                handler(change)
            self._publish(change)

    def _publish(self, change: CacheEvent | None) -> None:
        raise NotImplementedError

    def _mark_synced(self) -> None:
        self._synced = True

    def _on_status(self, reflection: Reflection) -> OnStatus:
        def on_status(status: ConnectionStatus, _error: ApiError | None) -> None:
            if status == "reconnecting":
                reflection.reconnected = True
            # One watch closing is not the informer closing: it lists again.
            if status != "closed":
                self._status = status

        return on_status

    def _on_bookmark(self, reflection: Reflection) -> Callable[[str], None]:
        def on_bookmark(_version: str) -> None:
            with self._lock:
                changes = reflection.on_bookmark()
            if changes is not None:
                self._emit(changes)
                self._mark_synced()

        return on_bookmark


class Informer(_InformerBase[Watch]):
    """A cache of the vclusters a list-watch follows, maintained by a background thread.

    Use it as a context manager (or call :meth:`start` / :meth:`stop`); read it with
    :meth:`get` and :meth:`list`; react with :meth:`add_handler` or iterate :meth:`events`.
    """

    def __init__(
        self,
        list_pages: Callable[[], Iterator[Page[VCluster]]],
        make_watch: MakeWatch[Watch],
        *,
        random: Random,
        list_backoff: tuple[float, float] = (0.8, 30.0),
    ) -> None:
        super().__init__(make_watch, random=random, list_backoff=list_backoff)
        self._list_pages = list_pages
        self._stopped = threading.Event()
        self._synced_event = threading.Event()
        self._thread: threading.Thread | None = None
        self._queues: list[queue.SimpleQueue[CacheEvent | None]] = []

    def start(self) -> Informer:
        """Starts listing and watching (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name="open-vcluster-informer", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stops the informer and waits up to ``timeout`` seconds for its thread to end.

        The cache and the handlers stop at once; the thread itself ends when its blocked read
        returns, at the stream's next message or heartbeat (the server sends one every 5 s).
        """
        self._stopped.set()
        if self._watch is not None:
            self._watch.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> bool:
        """Waits until the informer has stopped (by :meth:`stop` or a failure); False on timeout."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._status == "closed"

    def __enter__(self) -> Informer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop(timeout=0)

    def wait_for_sync(self, timeout: float | None = None) -> None:
        """Returns once the first list has been applied; raises the informer's failure first.

        Raises :class:`TimeoutError` when ``timeout`` seconds pass before that.
        """
        if not self._synced_event.wait(timeout):
            if self._failure is not None:
                raise self._failure
            raise TimeoutError(f"the informer did not sync within {timeout:g} s")
        if not self._synced and self._failure is not None:
            raise self._failure

    def events(self) -> Iterator[CacheEvent]:
        """Every change from this call on; ends when the informer stops, raises when it failed."""
        q: queue.SimpleQueue[CacheEvent | None] = queue.SimpleQueue()
        self._queues.append(q)
        if self._stopped.is_set():
            q.put(None)
        return self._drain(q)

    def _drain(self, q: queue.SimpleQueue[CacheEvent | None]) -> Iterator[CacheEvent]:
        try:
            while (item := q.get()) is not None:
                yield item
            if self._failure is not None:
                raise self._failure
        finally:
            self._queues.remove(q)

    def _publish(self, change: CacheEvent | None) -> None:
        for q in list(self._queues):
            q.put(change)

    def _mark_synced(self) -> None:
        super()._mark_synced()
        self._synced_event.set()

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as error:  # noqa: BLE001 - the failure is handed to every reader
            if not self._stopped.is_set():
                self._failure = error
        finally:
            self._stopped.set()
            self._status = "closed"
            self._synced_event.set()
            self._publish(None)

    def _run(self) -> None:
        backoff = Backoff(*self._list_backoff, self._random)
        full_resync = False
        while not self._stopped.is_set():
            reflection = Reflection(self._store, full_resync)
            start = ""
            if not full_resync:
                try:
                    for page in self._list_pages():
                        reflection.add_page(page.items, page.resource_version)
                except ApiError as error:
                    if ends_watch(error):
                        raise
                    self._stopped.wait(backoff.next())
                    continue
                backoff.reset()
                with self._lock:
                    changes, start = reflection.finish_list()
                self._emit(changes)
                self._mark_synced()
            watch = self._make_watch(start, self._on_status(reflection), self._on_bookmark(reflection))
            self._watch = watch
            if self._stopped.is_set():
                return
            try:
                for event in watch:
                    with self._lock:
                        change = reflection.on_event(event)
                    if change is not None:
                        self._emit([change])
            except ResourceVersionExpiredError:
                full_resync = reflection.after_expired() == "full-resync"
                continue
            return  # the watch ends without an error only when closed


class AsyncInformer(_InformerBase[AsyncWatch]):
    """The async form of :class:`Informer`, maintained by an asyncio task.

    Use ``async with`` (or :meth:`start` / :meth:`stop`); ``await wait_for_sync()``;
    ``async for event in informer.events()``.
    """

    def __init__(
        self,
        list_pages: Callable[[], AsyncIterator[Page[VCluster]]],
        make_watch: MakeWatch[AsyncWatch],
        *,
        random: Random,
        list_backoff: tuple[float, float] = (0.8, 30.0),
    ) -> None:
        super().__init__(make_watch, random=random, list_backoff=list_backoff)
        self._list_pages = list_pages
        self._task: asyncio.Task[None] | None = None
        self._synced_event = asyncio.Event()
        self._stopped = asyncio.Event()
        self._queues: list[asyncio.Queue[CacheEvent | None]] = []

    def start(self) -> AsyncInformer:
        """Starts listing and watching in a task of the running loop (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._main(), name="open-vcluster-informer")
        return self

    async def stop(self) -> None:
        """Stops the informer and waits for its task to end."""
        self._stopped.set()
        if self._watch is not None:
            self._watch.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def wait_closed(self) -> None:
        """Returns once the informer has stopped (by :meth:`stop` or a failure; see :attr:`error`)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def __aenter__(self) -> AsyncInformer:
        return self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def wait_for_sync(self, timeout: float | None = None) -> None:
        """Returns once the first list has been applied; raises the informer's failure first."""
        try:
            await asyncio.wait_for(self._synced_event.wait(), timeout)
        except TimeoutError:
            if self._failure is not None:
                raise self._failure from None
            raise TimeoutError(f"the informer did not sync within {timeout:g} s") from None
        if not self._synced and self._failure is not None:
            raise self._failure

    def events(self) -> AsyncGenerator[CacheEvent]:
        """Every change from this call on; ends when the informer stops, raises when it failed."""
        q: asyncio.Queue[CacheEvent | None] = asyncio.Queue()
        self._queues.append(q)
        if self._stopped.is_set():
            q.put_nowait(None)
        return self._drain(q)

    async def _drain(self, q: asyncio.Queue[CacheEvent | None]) -> AsyncGenerator[CacheEvent]:
        try:
            while (item := await q.get()) is not None:
                yield item
            if self._failure is not None:
                raise self._failure
        finally:
            self._queues.remove(q)

    def _publish(self, change: CacheEvent | None) -> None:
        for q in list(self._queues):
            q.put_nowait(change)

    def _mark_synced(self) -> None:
        super()._mark_synced()
        self._synced_event.set()

    async def _main(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            pass
        except Exception as error:  # noqa: BLE001 - the failure is handed to every reader
            if not self._stopped.is_set():
                self._failure = error
        finally:
            self._stopped.set()
            self._status = "closed"
            self._synced_event.set()
            self._publish(None)

    async def _run(self) -> None:
        backoff = Backoff(*self._list_backoff, self._random)
        full_resync = False
        while not self._stopped.is_set():
            reflection = Reflection(self._store, full_resync)
            start = ""
            if not full_resync:
                try:
                    async for page in self._list_pages():
                        reflection.add_page(page.items, page.resource_version)
                except ApiError as error:
                    if ends_watch(error):
                        raise
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopped.wait(), backoff.next())
                    continue
                backoff.reset()
                changes, start = reflection.finish_list()
                self._emit(changes)
                self._mark_synced()
            watch = self._make_watch(start, self._on_status(reflection), self._on_bookmark(reflection))
            self._watch = watch
            try:
                async for event in watch:
                    change = reflection.on_event(event)
                    if change is not None:
                        self._emit([change])
            except ResourceVersionExpiredError:
                full_resync = reflection.after_expired() == "full-resync"
                continue
            return
