"""The asynchronous client."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from connectrpc.client import ResponseMetadata
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf import Message
from pyqwest import Client as HTTPClient
from pyqwest import HTTPTransport

from . import _shared
from ._gen.vcluster.api.v1.vcluster_api_connect import SnapshotServiceClient, VClusterServiceClient
from ._informer import AsyncInformer
from ._paging import AsyncPaginator, Page
from ._retry import RetryEvent, RetryPolicy
from ._waiters import (
    DEFAULT_WAIT_TIMEOUT,
    DELETED,
    After,
    Anchor,
    Goal,
    SnapshotWaitRun,
    WaitRun,
    custom_goal,
    reach_phase,
    target_of,
    wait_async,
)
from ._watch import AsyncWatch, ConnectionStatus, OnStatus, WatchEvent, WatchSettings, resource_version_of
from .api import (
    CreateVClusterRequest,
    CreateVClusterResponse,
    DeleteSnapshotRequest,
    DeleteSnapshotResponse,
    DeleteVClusterRequest,
    DeleteVClusterResponse,
    GetSnapshotRequest,
    GetSnapshotResponse,
    GetVClusterKubeconfigRequest,
    GetVClusterKubeconfigResponse,
    GetVClusterRequest,
    GetVClusterResponse,
    ListSnapshotsRequest,
    ListSnapshotsResponse,
    ListVClustersRequest,
    ListVClustersResponse,
    Phase,
    RestoreVClusterRequest,
    RestoreVClusterResponse,
    ResumeVClusterRequest,
    ResumeVClusterResponse,
    ScaleVClusterRequest,
    ScaleVClusterResponse,
    Snapshot,
    SnapshotVClusterRequest,
    SnapshotVClusterResponse,
    SuspendVClusterRequest,
    SuspendVClusterResponse,
    UpdateVClusterRequest,
    UpdateVClusterResponse,
    VCluster,
    WatchVClusterRequest,
    WatchVClusterResponse,
)
from .errors import ApiError, DeadlineExceededError, UnavailableError, from_connect_error

Req = TypeVar("Req", bound=Message)
Res = TypeVar("Res", bound=Message)


async def _converted(stream: AsyncIterator[WatchVClusterResponse]) -> AsyncGenerator[WatchVClusterResponse]:
    try:
        async for message in stream:
            yield message
    except ConnectError as error:
        raise from_connect_error(error) from error


class AsyncClient:
    """An asyncio client of the open-vcluster API over Connect, gRPC or gRPC-Web.

    Every call retries by the SDK's policy (see :class:`RetryPolicy`) within its ``timeout``
    (seconds, retries included; the client's default is 30 s) and raises an
    :class:`~open_vcluster.errors.ApiError` subclass on failure. Use it as a context manager
    or call :meth:`close`::

        async with AsyncClient("http://127.0.0.1:8080") as client:
            created = await client.create_vcluster(CreateVClusterRequest(name="demo"))
            await client.wait_until_running("demo", after=created)
    """

    def __init__(
        self,
        base_url: str,
        *,
        protocol: _shared.Protocol = "connect",
        token: _shared.AsyncTokenSource | None = None,
        timeout: float | None = _shared.DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - frozen, shared safely
        watch: WatchSettings | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        random: Callable[[], float] | None = None,
    ) -> None:
        """Creates a client.

        Args:
            base_url: The server, e.g. ``http://127.0.0.1:8080``.
            protocol: ``"connect"`` (default), ``"grpc"`` (HTTP/2) or ``"grpc-web"``.
            token: Sent as ``Authorization: Bearer <token>``; a function or async function is called per
                attempt. An :class:`AsyncCachedToken` (or :class:`CachedToken`) caches it and is told when
                the server refuses it; the call is then sent once more with a fresh token.
            timeout: Total seconds per call, retries included; ``None`` or 0 disables.
            retry: The retry policy; ``None`` disables retries.
            watch: Reconnect and heartbeat settings of every watch (waiters and informers too).
            on_retry: Called before each backoff sleep.
            random: Random source of every jitter (tests).
        """
        self._settings = _shared.client_settings(
            base_url,
            protocol=protocol,
            token=token,
            timeout=timeout,
            retry=retry,
            watch=watch,
            on_retry=on_retry,
            random=random,
        )
        s = self._settings
        self._transport = HTTPTransport(http_version=s.http_version)
        # Watches get their own connection whose read timeout is the heartbeat timeout: a
        # stream silent that long is dead.
        self._watch_transport = HTTPTransport(http_version=s.http_version, read_timeout=s.watch.heartbeat_timeout)
        http, watch_http = HTTPClient(self._transport), HTTPClient(self._watch_transport)
        self._vclusters = VClusterServiceClient(s.base_url, protocol=s.protocol, http_client=http)
        self._snapshots = SnapshotServiceClient(s.base_url, protocol=s.protocol, http_client=http)
        self._watches = VClusterServiceClient(s.base_url, protocol=s.protocol, http_client=watch_http)

    async def close(self) -> None:
        """Closes the client's connections."""
        await self._transport.aclose()
        await self._watch_transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _call(
        self,
        name: str,
        call: Callable[..., Awaitable[Res]],
        request: Req,
        timeout: float | None,
        metadata: ResponseMetadata | None = None,
    ) -> Res:
        desc = _shared.method(name)
        plan = _shared.plan(self._settings, desc, timeout)
        request = _shared.with_request_id(desc, request)
        sent = _shared.SentToken()
        auth: dict[str, str] | None = None
        refreshed = False
        while True:
            timeout_ms = plan.attempt_timeout_ms()
            try:
                if auth is None:
                    auth = await _shared.async_headers(self._settings, sent)
                if metadata is None:
                    result = await call(request, headers=auth, timeout_ms=timeout_ms)
                else:
                    with metadata:
                        result = await call(request, headers=auth, timeout_ms=timeout_ms)
                plan.succeeded()
                return result
            except ConnectError as error:
                failure = from_connect_error(error)
            refused, auth = sent.token, None
            # A refused token is dropped and the call sent once more with a fresh one: the
            # refusal proves the server did nothing. Handed the same token again, the refusal stands.
            if failure.code == Code.UNAUTHENTICATED and not refreshed and _shared.refresh_token(self._settings, sent):
                refreshed = True
                auth = await _shared.async_headers(self._settings, sent)
                if sent.token != refused:
                    continue
            await asyncio.sleep(plan.failed(failure))

    # --- VClusterService -------------------------------------------------------------------

    async def create_vcluster(
        self, request: CreateVClusterRequest, *, timeout: float | None = None
    ) -> CreateVClusterResponse:
        """Creates a vcluster; retried safely: the SDK sets ``request_id`` once per call."""
        return await self._call("CreateVCluster", self._vclusters.create_v_cluster, request, timeout)

    async def get_vcluster(self, request: GetVClusterRequest, *, timeout: float | None = None) -> GetVClusterResponse:
        """Reads one vcluster by name and namespace, or by id."""
        return await self._call("GetVCluster", self._vclusters.get_v_cluster, request, timeout)

    async def list_vclusters(
        self, request: ListVClustersRequest, *, timeout: float | None = None
    ) -> ListVClustersResponse:
        """Reads one page of vclusters; :meth:`paginate_vclusters` walks all of them."""
        return await self._call("ListVClusters", self._vclusters.list_v_clusters, request, timeout)

    async def update_vcluster(
        self, request: UpdateVClusterRequest, *, timeout: float | None = None
    ) -> UpdateVClusterResponse:
        """Changes the fields named by the update mask."""
        return await self._call("UpdateVCluster", self._vclusters.update_v_cluster, request, timeout)

    async def delete_vcluster(
        self, request: DeleteVClusterRequest, *, timeout: float | None = None
    ) -> DeleteVClusterResponse:
        """Starts deleting a vcluster; :meth:`wait_until_deleted` follows it."""
        return await self._call("DeleteVCluster", self._vclusters.delete_v_cluster, request, timeout)

    async def scale_vcluster(
        self, request: ScaleVClusterRequest, *, timeout: float | None = None
    ) -> ScaleVClusterResponse:
        """Changes the number of control-plane replicas."""
        return await self._call("ScaleVCluster", self._vclusters.scale_v_cluster, request, timeout)

    async def suspend_vcluster(
        self, request: SuspendVClusterRequest, *, timeout: float | None = None
    ) -> SuspendVClusterResponse:
        """Suspends a vcluster; :meth:`wait_until_suspended` follows it."""
        return await self._call("SuspendVCluster", self._vclusters.suspend_v_cluster, request, timeout)

    async def resume_vcluster(
        self, request: ResumeVClusterRequest, *, timeout: float | None = None
    ) -> ResumeVClusterResponse:
        """Resumes a suspended vcluster; :meth:`wait_until_running` follows it."""
        return await self._call("ResumeVCluster", self._vclusters.resume_v_cluster, request, timeout)

    async def snapshot_vcluster(
        self, request: SnapshotVClusterRequest, *, timeout: float | None = None
    ) -> SnapshotVClusterResponse:
        """Starts a snapshot; :meth:`wait_until_snapshot_ready` follows it."""
        return await self._call("SnapshotVCluster", self._vclusters.snapshot_v_cluster, request, timeout)

    async def restore_vcluster(
        self, request: RestoreVClusterRequest, *, timeout: float | None = None
    ) -> RestoreVClusterResponse:
        """Restores a vcluster from a READY snapshot."""
        return await self._call("RestoreVCluster", self._vclusters.restore_v_cluster, request, timeout)

    async def get_vcluster_kubeconfig(
        self, request: GetVClusterKubeconfigRequest, *, timeout: float | None = None
    ) -> GetVClusterKubeconfigResponse:
        """Returns a kubeconfig for the vcluster."""
        return await self._call("GetVClusterKubeconfig", self._vclusters.get_v_cluster_kubeconfig, request, timeout)

    # --- SnapshotService -------------------------------------------------------------------

    async def list_snapshots(
        self, request: ListSnapshotsRequest, *, timeout: float | None = None
    ) -> ListSnapshotsResponse:
        """Reads one page of snapshots; :meth:`paginate_snapshots` walks all of them."""
        return await self._call("ListSnapshots", self._snapshots.list_snapshots, request, timeout)

    async def get_snapshot(self, request: GetSnapshotRequest, *, timeout: float | None = None) -> GetSnapshotResponse:
        """Reads one snapshot by id."""
        return await self._call("GetSnapshot", self._snapshots.get_snapshot, request, timeout)

    async def delete_snapshot(
        self, request: DeleteSnapshotRequest, *, timeout: float | None = None
    ) -> DeleteSnapshotResponse:
        """Deletes a snapshot."""
        return await self._call("DeleteSnapshot", self._snapshots.delete_snapshot, request, timeout)

    # --- Helpers ---------------------------------------------------------------------------

    def paginate_vclusters(
        self, request: ListVClustersRequest | None = None, *, page_token: str = "", timeout: float | None = None
    ) -> AsyncPaginator[VCluster]:
        """Every vcluster matching the request, fetched page by page (each page retried alone).

        Iterate it for vclusters; ``.pages()`` yields pages with their tokens and the resource
        version each page was read at; ``page_token`` resumes from a checkpoint.
        """
        base = request or ListVClustersRequest()

        async def fetch(token: str) -> Page[VCluster]:
            metadata = ResponseMetadata()
            res = await self._call(
                "ListVClusters", self._vclusters.list_v_clusters, _shared.page_request(base, token), timeout, metadata
            )
            version = _shared.read_version_header(metadata.headers)
            return Page(list(res.vclusters), res.next_page_token, res.total_count, version)

        return AsyncPaginator(fetch, page_token)

    def paginate_snapshots(
        self, request: ListSnapshotsRequest | None = None, *, page_token: str = "", timeout: float | None = None
    ) -> AsyncPaginator[Snapshot]:
        """Every snapshot matching the request, fetched page by page."""
        base = request or ListSnapshotsRequest()

        async def fetch(token: str) -> Page[Snapshot]:
            res = await self.list_snapshots(_shared.snapshot_page_request(base, token), timeout=timeout)
            return Page(list(res.snapshots), res.next_page_token, res.total_count)

        return AsyncPaginator(fetch, page_token)

    @asynccontextmanager
    async def _open_stream(
        self, request: WatchVClusterRequest, timeout_ms: int | None, *, sent: _shared.SentToken
    ) -> AsyncIterator[AsyncIterator[WatchVClusterResponse]]:
        try:
            auth = await _shared.async_headers(self._settings, sent)
        except (OSError, ValueError) as error:
            # Fetching a token may succeed later (an issuer that is down): the watch retries.
            raise UnavailableError(Code.UNAVAILABLE, f"no bearer token: {error}") from error
        stream = self._watches.watch_v_cluster(request, headers=auth, timeout_ms=timeout_ms)
        converted = _converted(stream)
        try:
            yield converted
        finally:
            await converted.aclose()
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()

    def watch(
        self,
        request: WatchVClusterRequest | None = None,
        *,
        on_status: Callable[[ConnectionStatus, ApiError | None], None] | None = None,
        on_bookmark: Callable[[str], None] | None = None,
        deadline: float | None = None,
    ) -> AsyncWatch:
        """A resumable watch: ``async for`` it for :class:`WatchEvent` values; it reconnects by itself.

        ``request.resource_version`` ``""`` first delivers every matching vcluster as ADDED. The
        iteration ends when :meth:`AsyncWatch.close` is called, or raises an error retrying cannot
        fix (``ResourceVersionExpiredError``: list again). ``deadline`` (a ``time.monotonic()``
        value) bounds the whole watch.
        """
        sent = _shared.SentToken()
        return AsyncWatch(
            functools.partial(self._open_stream, sent=sent),
            request or WatchVClusterRequest(),
            refresh_credentials=lambda: _shared.refresh_token(self._settings, sent),
            settings=self._settings.watch,
            random=self._settings.random,
            on_status=on_status,
            on_bookmark=on_bookmark,
            deadline=deadline,
        )

    def informer(self, *, namespace: str = "", label_selector: str = "", page_size: int = 0) -> AsyncInformer:
        """A list-watch cache of the matching vclusters; start it with ``async with`` or ``.start()``."""
        request = ListVClustersRequest(namespace=namespace, label_selector=label_selector, page_size=page_size)

        def make_watch(version: str, on_status: OnStatus, on_bookmark: Callable[[str], None]) -> AsyncWatch:
            watch_request = _shared.watch_request("", namespace, label_selector, version)
            return self.watch(watch_request, on_status=on_status, on_bookmark=on_bookmark)

        settings = self._settings.watch
        return AsyncInformer(
            lambda: self.paginate_vclusters(request).pages(),
            make_watch,
            random=self._settings.random,
            list_backoff=(settings.backoff_initial, settings.backoff_max),
        )

    async def _wait(
        self,
        name: str,
        namespace: str,
        goal: Goal,
        after: After,
        timeout: float,
        on_progress: Callable[[VCluster], None] | None,
    ) -> VCluster | None:
        namespace = namespace or "default"
        run = WaitRun(target_of(namespace, name, goal), goal, Anchor(after), timeout, on_progress)

        async def get(left: float) -> VCluster:
            found = (await self.get_vcluster(GetVClusterRequest(name=name, namespace=namespace), timeout=left)).vcluster
            if found is None:
                raise RuntimeError(f"GetVCluster returned no vcluster for {namespace}/{name}")
            return found

        @asynccontextmanager
        async def follow(version: str, deadline: float) -> AsyncIterator[AsyncIterator[WatchEvent]]:
            watch = self.watch(_shared.watch_request(name, namespace, "", version), deadline=deadline)
            events = aiter(watch)
            try:
                yield events
            finally:
                watch.close()
                await events.aclose()  # type: ignore[attr-defined]

        return await wait_async(run, get, follow)

    async def wait_until_running(
        self,
        name: str,
        namespace: str = "default",
        *,
        after: After = None,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_progress: Callable[[VCluster], None] | None = None,
    ) -> VCluster:
        """Returns the vcluster once it is RUNNING; raises :class:`WaitFailedError` at once on ERROR.

        ``after`` (the response of your mutation, or its operation id) makes sure a state from
        before your operation never counts. Raises :class:`WaitTimeoutError` (with the last
        state seen) after ``timeout`` seconds, ``NotFoundError`` when there is no such vcluster.
        """
        found = await self._wait(name, namespace, reach_phase(Phase.RUNNING), after, timeout, on_progress)
        assert found is not None
        return found

    async def wait_until_suspended(
        self,
        name: str,
        namespace: str = "default",
        *,
        after: After = None,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_progress: Callable[[VCluster], None] | None = None,
    ) -> VCluster:
        """Returns the vcluster once it is SUSPENDED; see :meth:`wait_until_running`."""
        found = await self._wait(name, namespace, reach_phase(Phase.SUSPENDED), after, timeout, on_progress)
        assert found is not None
        return found

    async def wait_until_deleted(
        self,
        name: str,
        namespace: str = "default",
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_progress: Callable[[VCluster], None] | None = None,
    ) -> None:
        """Returns once the vcluster no longer exists (at once when it is already gone)."""
        await self._wait(name, namespace, DELETED, None, timeout, on_progress)

    async def wait_for(
        self,
        name: str,
        namespace: str = "default",
        *,
        predicate: Callable[[VCluster], bool] | None = None,
        condition: tuple[str, str] | None = None,
        description: str = "",
        after: After = None,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_progress: Callable[[VCluster], None] | None = None,
    ) -> VCluster:
        """Returns the vcluster once ``predicate`` holds or it has ``condition`` (type, status).

        Phase ERROR fails at once; ``after`` and ``timeout`` work as in :meth:`wait_until_running`.
        """
        goal = custom_goal(predicate, condition, description)
        found = await self._wait(name, namespace, goal, after, timeout, on_progress)
        assert found is not None
        return found

    async def wait_until_snapshot_ready(self, snapshot_id: str, *, timeout: float = DEFAULT_WAIT_TIMEOUT) -> Snapshot:
        """Returns the snapshot once it is READY; FAILED or DELETING fail at once.

        Driven by the watch of the snapshot's vcluster, which mirrors the snapshot's status in
        ``status.last_snapshot``: each change of that mirror re-reads the snapshot.
        """
        run = SnapshotWaitRun(snapshot_id, timeout)
        try:
            found = (await self.get_snapshot(GetSnapshotRequest(id=snapshot_id), timeout=run.left())).snapshot
            if run.settle(found):
                return run.result()
            owner = GetVClusterRequest(name=run.result().vcluster_name, namespace=run.result().namespace)
            vcluster = (await self.get_vcluster(owner, timeout=run.left())).vcluster
            # Read again after the vcluster: every later change reaches the watch below.
            if run.settle((await self.get_snapshot(GetSnapshotRequest(id=snapshot_id), timeout=run.left())).snapshot):
                return run.result()
            request = _shared.watch_request(owner.name, owner.namespace, "", resource_version_of(vcluster))
            watch = self.watch(request, deadline=run.deadline)
            try:
                async for event in watch:
                    if run.changed(event):
                        again = (
                            await self.get_snapshot(GetSnapshotRequest(id=snapshot_id), timeout=run.left())
                        ).snapshot
                        if run.settle(again):
                            return run.result()
            finally:
                watch.close()
            raise run.timed_out()
        except DeadlineExceededError:
            raise run.timed_out() from None
