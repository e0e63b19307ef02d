"""The synchronous client."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from connectrpc.client import ResponseMetadata
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf import Message
from pyqwest import SyncClient, SyncHTTPTransport

from . import _shared
from ._gen.vcluster.api.v1.vcluster_api_connect import SnapshotServiceClientSync, VClusterServiceClientSync
from ._informer import Informer
from ._paging import Page, Paginator
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
    wait_sync,
)
from ._watch import ConnectionStatus, OnStatus, Watch, WatchEvent, WatchSettings, resource_version_of
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


def _converted(stream: Iterator[WatchVClusterResponse]) -> Iterator[WatchVClusterResponse]:
    try:
        yield from stream
    except ConnectError as error:
        raise from_connect_error(error) from error


class Client:
    """A synchronous client of the open-vcluster API over Connect, gRPC or gRPC-Web.

    Every call retries by the SDK's policy (see :class:`RetryPolicy`) within its ``timeout``
    (seconds, retries included; the client's default is 30 s) and raises an
    :class:`~open_vcluster.errors.ApiError` subclass on failure. Use it as a context manager
    or call :meth:`close`::

        with Client("http://127.0.0.1:8080") as client:
            created = client.create_vcluster(CreateVClusterRequest(name="demo"))
            client.wait_until_running("demo", after=created)
    """

    def __init__(
        self,
        base_url: str,
        *,
        protocol: _shared.Protocol = "connect",
        token: _shared.TokenSource | None = None,
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
            token: Sent as ``Authorization: Bearer <token>``; a function is called per attempt. A
                :class:`CachedToken` caches it and is told when the server refuses it; the call is then
                sent once more with a fresh token.
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
        self._transport = SyncHTTPTransport(http_version=s.http_version)
        # Watches get their own connection whose read timeout is the heartbeat timeout: a
        # stream silent that long is dead.
        self._watch_transport = SyncHTTPTransport(http_version=s.http_version, read_timeout=s.watch.heartbeat_timeout)
        http, watch_http = SyncClient(self._transport), SyncClient(self._watch_transport)
        self._vclusters = VClusterServiceClientSync(s.base_url, protocol=s.protocol, http_client=http)
        self._snapshots = SnapshotServiceClientSync(s.base_url, protocol=s.protocol, http_client=http)
        self._watches = VClusterServiceClientSync(s.base_url, protocol=s.protocol, http_client=watch_http)

    def close(self) -> None:
        """Closes the client's connections."""
        self._transport.close()
        self._watch_transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(
        self,
        name: str,
        call: Callable[..., Res],
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
                    auth = _shared.headers(self._settings, sent)
                if metadata is None:
                    result = call(request, headers=auth, timeout_ms=timeout_ms)
                else:
                    with metadata:
                        result = call(request, headers=auth, timeout_ms=timeout_ms)
                plan.succeeded()
                return result
            except ConnectError as error:
                failure = from_connect_error(error)
            refused, auth = sent.token, None
            # A refused token is dropped and the call sent once more with a fresh one: the
            # refusal proves the server did nothing. Handed the same token again, the refusal stands.
            if failure.code == Code.UNAUTHENTICATED and not refreshed and _shared.refresh_token(self._settings, sent):
                refreshed = True
                auth = _shared.headers(self._settings, sent)
                if sent.token != refused:
                    continue
            time.sleep(plan.failed(failure))

    # --- VClusterService -------------------------------------------------------------------

    def create_vcluster(
        self, request: CreateVClusterRequest, *, timeout: float | None = None
    ) -> CreateVClusterResponse:
        """Creates a vcluster; retried safely: the SDK sets ``request_id`` once per call."""
        return self._call("CreateVCluster", self._vclusters.create_v_cluster, request, timeout)

    def get_vcluster(self, request: GetVClusterRequest, *, timeout: float | None = None) -> GetVClusterResponse:
        """Reads one vcluster by name and namespace, or by id."""
        return self._call("GetVCluster", self._vclusters.get_v_cluster, request, timeout)

    def list_vclusters(self, request: ListVClustersRequest, *, timeout: float | None = None) -> ListVClustersResponse:
        """Reads one page of vclusters; :meth:`paginate_vclusters` walks all of them."""
        return self._call("ListVClusters", self._vclusters.list_v_clusters, request, timeout)

    def update_vcluster(
        self, request: UpdateVClusterRequest, *, timeout: float | None = None
    ) -> UpdateVClusterResponse:
        """Changes the fields named by the update mask."""
        return self._call("UpdateVCluster", self._vclusters.update_v_cluster, request, timeout)

    def delete_vcluster(
        self, request: DeleteVClusterRequest, *, timeout: float | None = None
    ) -> DeleteVClusterResponse:
        """Starts deleting a vcluster; :meth:`wait_until_deleted` follows it."""
        return self._call("DeleteVCluster", self._vclusters.delete_v_cluster, request, timeout)

    def scale_vcluster(self, request: ScaleVClusterRequest, *, timeout: float | None = None) -> ScaleVClusterResponse:
        """Changes the number of control-plane replicas."""
        return self._call("ScaleVCluster", self._vclusters.scale_v_cluster, request, timeout)

    def suspend_vcluster(
        self, request: SuspendVClusterRequest, *, timeout: float | None = None
    ) -> SuspendVClusterResponse:
        """Suspends a vcluster; :meth:`wait_until_suspended` follows it."""
        return self._call("SuspendVCluster", self._vclusters.suspend_v_cluster, request, timeout)

    def resume_vcluster(
        self, request: ResumeVClusterRequest, *, timeout: float | None = None
    ) -> ResumeVClusterResponse:
        """Resumes a suspended vcluster; :meth:`wait_until_running` follows it."""
        return self._call("ResumeVCluster", self._vclusters.resume_v_cluster, request, timeout)

    def snapshot_vcluster(
        self, request: SnapshotVClusterRequest, *, timeout: float | None = None
    ) -> SnapshotVClusterResponse:
        """Starts a snapshot; :meth:`wait_until_snapshot_ready` follows it."""
        return self._call("SnapshotVCluster", self._vclusters.snapshot_v_cluster, request, timeout)

    def restore_vcluster(
        self, request: RestoreVClusterRequest, *, timeout: float | None = None
    ) -> RestoreVClusterResponse:
        """Restores a vcluster from a READY snapshot."""
        return self._call("RestoreVCluster", self._vclusters.restore_v_cluster, request, timeout)

    def get_vcluster_kubeconfig(
        self, request: GetVClusterKubeconfigRequest, *, timeout: float | None = None
    ) -> GetVClusterKubeconfigResponse:
        """Returns a kubeconfig for the vcluster."""
        return self._call("GetVClusterKubeconfig", self._vclusters.get_v_cluster_kubeconfig, request, timeout)

    # --- SnapshotService -------------------------------------------------------------------

    def list_snapshots(self, request: ListSnapshotsRequest, *, timeout: float | None = None) -> ListSnapshotsResponse:
        """Reads one page of snapshots; :meth:`paginate_snapshots` walks all of them."""
        return self._call("ListSnapshots", self._snapshots.list_snapshots, request, timeout)

    def get_snapshot(self, request: GetSnapshotRequest, *, timeout: float | None = None) -> GetSnapshotResponse:
        """Reads one snapshot by id."""
        return self._call("GetSnapshot", self._snapshots.get_snapshot, request, timeout)

    def delete_snapshot(
        self, request: DeleteSnapshotRequest, *, timeout: float | None = None
    ) -> DeleteSnapshotResponse:
        """Deletes a snapshot."""
        return self._call("DeleteSnapshot", self._snapshots.delete_snapshot, request, timeout)

    # --- Helpers ---------------------------------------------------------------------------

    def paginate_vclusters(
        self, request: ListVClustersRequest | None = None, *, page_token: str = "", timeout: float | None = None
    ) -> Paginator[VCluster]:
        """Every vcluster matching the request, fetched page by page (each page retried alone).

        Iterate it for vclusters; ``.pages()`` yields pages with their tokens and the resource
        version each page was read at; ``page_token`` resumes from a checkpoint.
        """
        base = request or ListVClustersRequest()

        def fetch(token: str) -> Page[VCluster]:
            metadata = ResponseMetadata()
            res = self._call(
                "ListVClusters", self._vclusters.list_v_clusters, _shared.page_request(base, token), timeout, metadata
            )
            version = _shared.read_version_header(metadata.headers)
            return Page(list(res.vclusters), res.next_page_token, res.total_count, version)

        return Paginator(fetch, page_token)

    def paginate_snapshots(
        self, request: ListSnapshotsRequest | None = None, *, page_token: str = "", timeout: float | None = None
    ) -> Paginator[Snapshot]:
        """Every snapshot matching the request, fetched page by page."""
        base = request or ListSnapshotsRequest()

        def fetch(token: str) -> Page[Snapshot]:
            res = self.list_snapshots(_shared.snapshot_page_request(base, token), timeout=timeout)
            return Page(list(res.snapshots), res.next_page_token, res.total_count)

        return Paginator(fetch, page_token)

    @contextmanager
    def _open_stream(
        self, request: WatchVClusterRequest, timeout_ms: int | None, *, sent: _shared.SentToken
    ) -> Iterator[Iterator[WatchVClusterResponse]]:
        try:
            auth = _shared.headers(self._settings, sent)
        except (OSError, ValueError) as error:
            # Fetching a token may succeed later (an issuer that is down): the watch retries.
            raise UnavailableError(Code.UNAVAILABLE, f"no bearer token: {error}") from error
        stream = self._watches.watch_v_cluster(request, headers=auth, timeout_ms=timeout_ms)
        try:
            yield _converted(stream)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def watch(
        self,
        request: WatchVClusterRequest | None = None,
        *,
        on_status: Callable[[ConnectionStatus, ApiError | None], None] | None = None,
        on_bookmark: Callable[[str], None] | None = None,
        deadline: float | None = None,
    ) -> Watch:
        """A resumable watch: iterate it for :class:`WatchEvent` values; it reconnects by itself.

        ``request.resource_version`` ``""`` first delivers every matching vcluster as ADDED. The
        iteration ends when :meth:`Watch.close` is called, or raises an error retrying cannot
        fix (``ResourceVersionExpiredError``: list again). ``deadline`` (a ``time.monotonic()``
        value) bounds the whole watch.
        """
        sent = _shared.SentToken()
        return Watch(
            functools.partial(self._open_stream, sent=sent),
            request or WatchVClusterRequest(),
            refresh_credentials=lambda: _shared.refresh_token(self._settings, sent),
            settings=self._settings.watch,
            random=self._settings.random,
            on_status=on_status,
            on_bookmark=on_bookmark,
            deadline=deadline,
        )

    def informer(self, *, namespace: str = "", label_selector: str = "", page_size: int = 0) -> Informer:
        """A list-watch cache of the matching vclusters; start it with ``with`` or ``.start()``."""
        request = ListVClustersRequest(namespace=namespace, label_selector=label_selector, page_size=page_size)

        def make_watch(version: str, on_status: OnStatus, on_bookmark: Callable[[str], None]) -> Watch:
            watch_request = _shared.watch_request("", namespace, label_selector, version)
            return self.watch(watch_request, on_status=on_status, on_bookmark=on_bookmark)

        settings = self._settings.watch
        return Informer(
            lambda: self.paginate_vclusters(request).pages(),
            make_watch,
            random=self._settings.random,
            list_backoff=(settings.backoff_initial, settings.backoff_max),
        )

    def _wait(
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

        def get(left: float) -> VCluster:
            found = self.get_vcluster(GetVClusterRequest(name=name, namespace=namespace), timeout=left).vcluster
            if found is None:
                raise RuntimeError(f"GetVCluster returned no vcluster for {namespace}/{name}")
            return found

        @contextmanager
        def follow(version: str, deadline: float) -> Iterator[Iterator[WatchEvent]]:
            watch = self.watch(_shared.watch_request(name, namespace, "", version), deadline=deadline)
            try:
                yield iter(watch)
            finally:
                watch.close()

        return wait_sync(run, get, follow)

    def wait_until_running(
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
        found = self._wait(name, namespace, reach_phase(Phase.RUNNING), after, timeout, on_progress)
        assert found is not None
        return found

    def wait_until_suspended(
        self,
        name: str,
        namespace: str = "default",
        *,
        after: After = None,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_progress: Callable[[VCluster], None] | None = None,
    ) -> VCluster:
        """Returns the vcluster once it is SUSPENDED; see :meth:`wait_until_running`."""
        found = self._wait(name, namespace, reach_phase(Phase.SUSPENDED), after, timeout, on_progress)
        assert found is not None
        return found

    def wait_until_deleted(
        self,
        name: str,
        namespace: str = "default",
        *,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        on_progress: Callable[[VCluster], None] | None = None,
    ) -> None:
        """Returns once the vcluster no longer exists (at once when it is already gone)."""
        self._wait(name, namespace, DELETED, None, timeout, on_progress)

    def wait_for(
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
        found = self._wait(name, namespace, goal, after, timeout, on_progress)
        assert found is not None
        return found

    def wait_until_snapshot_ready(self, snapshot_id: str, *, timeout: float = DEFAULT_WAIT_TIMEOUT) -> Snapshot:
        """Returns the snapshot once it is READY; FAILED or DELETING fail at once.

        Driven by the watch of the snapshot's vcluster, which mirrors the snapshot's status in
        ``status.last_snapshot``: each change of that mirror re-reads the snapshot.
        """
        run = SnapshotWaitRun(snapshot_id, timeout)
        try:
            found = self.get_snapshot(GetSnapshotRequest(id=snapshot_id), timeout=run.left()).snapshot
            if run.settle(found):
                return run.result()
            owner = GetVClusterRequest(name=run.result().vcluster_name, namespace=run.result().namespace)
            vcluster = self.get_vcluster(owner, timeout=run.left()).vcluster
            # Read again after the vcluster: every later change reaches the watch below.
            if run.settle(self.get_snapshot(GetSnapshotRequest(id=snapshot_id), timeout=run.left()).snapshot):
                return run.result()
            request = _shared.watch_request(owner.name, owner.namespace, "", resource_version_of(vcluster))
            watch = self.watch(request, deadline=run.deadline)
            try:
                for event in watch:
                    if run.changed(event):
                        again = self.get_snapshot(GetSnapshotRequest(id=snapshot_id), timeout=run.left()).snapshot
                        if run.settle(again):
                            return run.result()
            finally:
                watch.close()
            raise run.timed_out()
        except DeadlineExceededError:
            raise run.timed_out() from None
