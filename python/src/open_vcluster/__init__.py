"""The Python SDK of the open-vcluster API.

:class:`Client` (sync) and :class:`AsyncClient` (asyncio) speak Connect, gRPC and gRPC-Web
and carry the SDK's helpers: retry, pagination, resumable watch, informer and waiters. The
messages and enums are in :mod:`open_vcluster.api`, the typed errors in
:mod:`open_vcluster.errors`.
"""

from importlib import metadata as _metadata

from ._cache import CacheEvent
from ._client_async import AsyncClient
from ._client_sync import Client
from ._gen.constants import Annotations, ErrorReasons, Phases, ResponseHeaders, Tokens
from ._informer import AsyncInformer, Informer
from ._paging import AsyncPaginator, Page, Paginator
from ._retry import RetryBudgetOptions, RetryEvent, RetryPolicy
from ._shared import AsyncTokenSource, Protocol, TokenSource
from ._tokens import (
    SERVICE_ACCOUNT_TOKEN_PATH,
    AsyncCachedToken,
    CachedToken,
    ClientCredentials,
    IssuedToken,
    async_client_credentials_token,
    client_credentials_token,
    jwt_expiry,
    service_account_token,
)
from ._watch import (
    AsyncWatch,
    ConnectionStatus,
    Watch,
    WatchEvent,
    WatchSettings,
    compare_resource_versions,
    resource_version_of,
)
from .errors import (
    ApiError,
    ErrorInfo,
    RepeatedPageTokenError,
    Violation,
    WaitFailedError,
    WaitTimeoutError,
)

try:
    __version__ = _metadata.version("open-vcluster")
except _metadata.PackageNotFoundError:  # running from a source checkout
    __version__ = "0.0.0+source"

__all__ = [
    "SERVICE_ACCOUNT_TOKEN_PATH",
    "Annotations",
    "ApiError",
    "AsyncCachedToken",
    "AsyncClient",
    "AsyncInformer",
    "AsyncPaginator",
    "AsyncTokenSource",
    "AsyncWatch",
    "CacheEvent",
    "CachedToken",
    "Client",
    "ClientCredentials",
    "ConnectionStatus",
    "ErrorInfo",
    "ErrorReasons",
    "Informer",
    "IssuedToken",
    "Page",
    "Paginator",
    "Phases",
    "Protocol",
    "RepeatedPageTokenError",
    "ResponseHeaders",
    "RetryBudgetOptions",
    "RetryEvent",
    "RetryPolicy",
    "TokenSource",
    "Tokens",
    "Violation",
    "WaitFailedError",
    "WaitTimeoutError",
    "Watch",
    "WatchEvent",
    "WatchSettings",
    "__version__",
    "async_client_credentials_token",
    "client_credentials_token",
    "compare_resource_versions",
    "jwt_expiry",
    "resource_version_of",
    "service_account_token",
]
