"""Settings and pure helpers the sync and the async client share."""

from __future__ import annotations

import copy
import inspect
import random as random_module
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from connectrpc.protocol import ProtocolType
from protobuf import DescMethod, Message
from pyqwest import HTTPVersion

from ._gen.constants import ResponseHeaders
from ._gen.vcluster.api.v1.vcluster_api_connect import SnapshotService, VClusterService
from ._retry import REQUEST_ID_FIELD, CallPlan, Clock, Random, RetryBudget, RetryEvent, RetryPolicy, has_request_id
from ._tokens import invalidate_token
from ._watch import WatchSettings
from .api import ListSnapshotsRequest, ListVClustersRequest, WatchVClusterRequest

Protocol = Literal["connect", "grpc", "grpc-web"]
"""The wire protocol: Connect (default), gRPC (HTTP/2) or gRPC-Web."""

TokenSource = str | Callable[[], str]
"""A bearer token, or a function returning one (called for every attempt, so it may refresh).

A :class:`CachedToken` (or anything with ``invalidate(refused)``) is also told when the server
refuses its token, and the call is then tried once more with a fresh one."""

AsyncTokenSource = str | Callable[[], str] | Callable[[], Awaitable[str]]
"""What the :class:`AsyncClient` takes: a token, a function or an async function returning one."""

M = TypeVar("M", bound=Message)

DEFAULT_TIMEOUT = 30.0

_PROTOCOLS: dict[str, ProtocolType] = {
    "connect": ProtocolType.CONNECT,
    "grpc": ProtocolType.GRPC,
    "grpc-web": ProtocolType.GRPC_WEB,
}

_METHODS: dict[str, DescMethod] = {
    m.name: m for service in (VClusterService, SnapshotService) for m in service.desc().methods
}


def method(name: str) -> DescMethod:
    """The descriptor of an RPC by its proto name, e.g. ``CreateVCluster``."""
    return _METHODS[name]


@dataclass(frozen=True)
class ClientSettings:
    """Everything a client is configured with; built once by the client's constructor."""

    base_url: str
    protocol: ProtocolType
    http_version: HTTPVersion | None
    token: AsyncTokenSource | None
    timeout: float | None
    retry: RetryPolicy | None
    watch: WatchSettings
    on_retry: Callable[[RetryEvent], None] | None
    clock: Clock
    random: Random
    budget: RetryBudget | None


def client_settings(
    base_url: str,
    *,
    protocol: Protocol,
    token: AsyncTokenSource | None,
    timeout: float | None,
    retry: RetryPolicy | None,
    watch: WatchSettings | None,
    on_retry: Callable[[RetryEvent], None] | None,
    random: Random | None,
) -> ClientSettings:
    if protocol not in _PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(_PROTOCOLS)}, got {protocol!r}")
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
    return ClientSettings(
        base_url=base_url.rstrip("/"),
        protocol=_PROTOCOLS[protocol],
        # gRPC needs HTTP/2; over plain HTTP that means prior knowledge (h2c).
        http_version=HTTPVersion.HTTP2 if protocol == "grpc" else None,
        token=token,
        timeout=None if timeout is None or timeout <= 0 else timeout,
        retry=retry if retry is not None and retry.max_attempts > 1 else None,
        watch=watch or WatchSettings(),
        on_retry=on_retry,
        clock=time.monotonic,
        random=random or random_module.random,
        budget=RetryBudget(retry.budget) if retry is not None else None,
    )


class SentToken:
    """The token the last attempt (or stream) carried: what to invalidate when it is refused."""

    __slots__ = ("token",)

    def __init__(self) -> None:
        self.token: str | None = None


def _with_token(token: object, sent: SentToken | None) -> dict[str, str]:
    if not isinstance(token, str):
        raise TypeError(f"the token source returned {type(token).__name__}, not str")
    if sent is not None:
        sent.token = token
    return {"authorization": f"Bearer {token}"} if token else {}


def headers(settings: ClientSettings, sent: SentToken | None = None) -> dict[str, str]:
    """The headers of one attempt: the bearer token, read anew (sync client)."""
    token = settings.token() if callable(settings.token) else settings.token
    return {} if token is None else _with_token(token, sent)


async def async_headers(settings: ClientSettings, sent: SentToken | None = None) -> dict[str, str]:
    """The headers of one attempt: the bearer token, read anew and awaited when it is async."""
    token = settings.token() if callable(settings.token) else settings.token
    if inspect.isawaitable(token):
        token = await token
    return {} if token is None else _with_token(token, sent)


def refresh_token(settings: ClientSettings, sent: SentToken) -> bool:
    """After UNAUTHENTICATED: drops the refused token; True when a fresh one can be fetched."""
    return invalidate_token(settings.token, sent.token)


def with_request_id(desc: DescMethod, request: M) -> M:
    """The request with ``request_id`` set to a fresh UUIDv4 unless the caller chose one.

    Called once per logical call, so every attempt carries the same key and the server
    answers a repeated attempt with the first one's response.
    """
    if not has_request_id(desc) or getattr(request, REQUEST_ID_FIELD, None):
        return request
    filled = copy.copy(request)
    setattr(filled, REQUEST_ID_FIELD, str(uuid.uuid4()))
    return filled


def plan(settings: ClientSettings, desc: DescMethod, timeout: float | None) -> CallPlan:
    """The retry plan of one call; ``timeout`` overrides the client's (None: the client's)."""
    total = settings.timeout if timeout is None else (None if timeout <= 0 else timeout)
    return CallPlan(
        policy=settings.retry,
        budget=settings.budget,
        method=desc,
        timeout=total,
        clock=settings.clock,
        random=settings.random,
        on_retry=settings.on_retry,
    )


def page_request(request: ListVClustersRequest, token: str) -> ListVClustersRequest:
    page = copy.copy(request)
    page.page_token = token
    return page


def snapshot_page_request(request: ListSnapshotsRequest, token: str) -> ListSnapshotsRequest:
    page = copy.copy(request)
    page.page_token = token
    return page


def read_version_header(values: Mapping[str, str] | None) -> str | None:
    if values is None:
        return None
    return values.get(ResponseHeaders.RESOURCE_VERSION) or None


def watch_request(name: str, namespace: str, label_selector: str, resource_version: str) -> WatchVClusterRequest:
    return WatchVClusterRequest(
        name=name, namespace=namespace, label_selector=label_selector, resource_version=resource_version
    )
