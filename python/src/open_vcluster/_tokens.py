"""Bearer tokens that refresh: cached until shortly before expiry, dropped when refused.

The behaviour is the contract's (``contract/vectors/token-cache.json``): a token is reused until
``refresh_before`` seconds before it expires (a JWT's ``exp`` when the source names no expiry;
never, for an opaque token without one), concurrent callers share one fetch, failures are not
cached, and ``invalidate(refused)`` drops the cached token only when it is the refused one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import NamedTuple

from ._gen.constants import Tokens

DEFAULT_REFRESH_BEFORE = Tokens.REFRESH_BEFORE_MS / 1000
"""Seconds before expiry a cached token is fetched anew (the contract's ``tokens.refreshBeforeMs``)."""

SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token"
"""Where Kubernetes mounts a pod's projected service-account token."""


class IssuedToken(NamedTuple):
    """A token with its expiry: epoch seconds or an aware ``datetime``; ``None`` when unknown."""

    token: str
    expires_at: float | datetime | None = None


Issued = str | IssuedToken | tuple[str, float | datetime | None]
"""What a token function returns: the token, or the token with its expiry."""

TokenFetch = Callable[[], Issued]
AsyncTokenFetch = Callable[[], Awaitable[Issued]]


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT in epoch seconds; ``None`` for a token that is not one.

    The signature is not checked: the server does that; the client only schedules a refresh.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def _refresh_at(issued: Issued, refresh_before: float) -> tuple[str, float | None]:
    token, expires_at = (issued, None) if isinstance(issued, str) else (issued[0], issued[1])
    if not isinstance(token, str) or not token:
        raise ValueError("the token source returned an empty token")
    if isinstance(expires_at, datetime):
        expires_at = expires_at.timestamp()
    if expires_at is None:
        expires_at = jwt_expiry(token)
    return token, None if expires_at is None else expires_at - refresh_before


class CachedToken:
    """A token function that caches (thread-safe): pass it as ``token=`` to either client.

    Called per request, it returns the cached token until ``refresh_before`` seconds before
    expiry and fetches a new one then; the client calls :meth:`invalidate` when the server
    refuses the token, then tries once more.
    """

    def __init__(
        self,
        fetch: TokenFetch,
        *,
        refresh_before: float = DEFAULT_REFRESH_BEFORE,
        clock: Callable[[], float] = time.time,
        stale: Callable[[], bool] | None = None,
    ) -> None:
        self._fetch = fetch
        self._refresh_before = refresh_before
        self._clock = clock
        self._stale = stale
        self._state = threading.Lock()
        # Held while fetching: concurrent callers wait for that fetch instead of starting theirs.
        self._fetching = threading.Lock()
        self._token: str | None = None
        self._refresh: float | None = None

    def _cached(self) -> str | None:
        with self._state:
            fresh = self._token is not None and (self._refresh is None or self._clock() < self._refresh)
            token = self._token if fresh else None
        if token is not None and self._stale is not None and self._stale():
            return None
        return token

    def __call__(self) -> str:
        token = self._cached()
        if token is not None:
            return token
        with self._fetching:
            token = self._cached()
            if token is not None:
                return token
            token, refresh = _refresh_at(self._fetch(), self._refresh_before)
            with self._state:
                self._token, self._refresh = token, refresh
            return token

    def invalidate(self, refused: str | None = None) -> None:
        """Drops the cached token: only when it is ``refused`` if that is given."""
        with self._state:
            if refused is None or self._token == refused:
                self._token, self._refresh = None, None


class AsyncCachedToken:
    """:class:`CachedToken` for asyncio: an async function; concurrent awaits share one fetch.

    A caller that is cancelled while waiting does not cancel the fetch the others wait for.
    """

    def __init__(
        self,
        fetch: AsyncTokenFetch,
        *,
        refresh_before: float = DEFAULT_REFRESH_BEFORE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._refresh_before = refresh_before
        self._clock = clock
        self._token: str | None = None
        self._refresh: float | None = None
        self._in_flight: asyncio.Task[str] | None = None

    async def _run(self) -> str:
        try:
            token, refresh = _refresh_at(await self._fetch(), self._refresh_before)
            self._token, self._refresh = token, refresh
            return token
        finally:
            self._in_flight = None

    async def __call__(self) -> str:
        if self._token is not None and (self._refresh is None or self._clock() < self._refresh):
            return self._token
        if self._in_flight is None:
            self._in_flight = asyncio.ensure_future(self._run())
        return await asyncio.shield(self._in_flight)

    def invalidate(self, refused: str | None = None) -> None:
        """Drops the cached token: only when it is ``refused`` if that is given."""
        if refused is None or self._token == refused:
            self._token, self._refresh = None, None


def invalidate_token(source: object, refused: str | None) -> bool:
    """Tells a refreshable source the server refused ``refused``; False when it cannot fetch anew."""
    invalidate = getattr(source, "invalidate", None)
    if not callable(invalidate):
        return False
    invalidate(refused)
    return True


class ClientCredentials:
    """A fetch function for the OAuth 2.0 client-credentials grant (standard library HTTP).

    The token endpoint is ``token_url``, or discovered once from ``issuer``'s OpenID
    configuration (tried again after a failure). Wrap it in :class:`CachedToken`, or use
    :func:`client_credentials_token` / :func:`async_client_credentials_token`.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        issuer: str | None = None,
        token_url: str | None = None,
        scope: str | None = None,
        resource: str | None = None,
        audience: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        problems = []
        if not client_id:
            problems.append("client_id is required")
        if not issuer and not token_url:
            problems.append("issuer or token_url is required")
        for name, url in (("issuer", issuer), ("token_url", token_url)):
            parsed = urllib.parse.urlparse(url or "")
            if url and (parsed.scheme not in {"http", "https"} or not parsed.netloc):
                problems.append(f"{name} must be an http(s) URL")
        if problems:
            raise ValueError(f"client credentials: {'; '.join(problems)}")
        self._issuer = issuer
        self._token_url = token_url
        self._timeout = timeout
        self._credentials = base64.b64encode(
            f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(client_secret, safe='')}".encode()
        ).decode()
        form = {"grant_type": "client_credentials", "scope": scope, "resource": resource, "audience": audience}
        self._body = urllib.parse.urlencode({k: v for k, v in form.items() if v}).encode()
        self._lock = threading.Lock()

    def _endpoint(self) -> str:
        with self._lock:
            if self._token_url:
                return self._token_url
            discovery = f"{(self._issuer or '').rstrip('/')}/.well-known/openid-configuration"
            try:
                with urllib.request.urlopen(discovery, timeout=self._timeout) as response:
                    url = json.load(response).get("token_endpoint")
            except (urllib.error.URLError, ValueError) as error:
                raise ConnectionError(f"OpenID discovery at {discovery} failed: {error}") from error
            if not isinstance(url, str) or not url:
                raise ConnectionError(f"OpenID discovery at {discovery} names no token_endpoint")
            self._token_url = url
            return url

    def __call__(self) -> IssuedToken:
        request = urllib.request.Request(
            self._endpoint(),
            data=self._body,
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "authorization": f"Basic {self._credentials}",
                "accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                body = json.load(response)
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            try:
                body = json.load(error)
            except ValueError:
                body = {}
        except urllib.error.URLError as error:
            raise ConnectionError(f"token endpoint unreachable: {error.reason}") from error
        token = body.get("access_token") if isinstance(body, dict) else None
        if status != 200 or not isinstance(token, str):
            why = ": ".join(
                str(body[k]) for k in ("error", "error_description") if isinstance(body, dict) and k in body
            )
            raise PermissionError(f"token endpoint answered HTTP {status}{f' ({why})' if why else ''}")
        expires_in = body.get("expires_in")
        expiry = time.time() + expires_in if isinstance(expires_in, int | float) else None
        return IssuedToken(token, expiry)


def client_credentials_token(
    *,
    client_id: str,
    client_secret: str,
    issuer: str | None = None,
    token_url: str | None = None,
    scope: str | None = None,
    resource: str | None = None,
    audience: str | None = None,
    refresh_before: float = DEFAULT_REFRESH_BEFORE,
) -> CachedToken:
    """Cached access tokens from the client-credentials grant (see :class:`ClientCredentials`)."""
    fetch = ClientCredentials(
        client_id=client_id,
        client_secret=client_secret,
        issuer=issuer,
        token_url=token_url,
        scope=scope,
        resource=resource,
        audience=audience,
    )
    return CachedToken(fetch, refresh_before=refresh_before)


def async_client_credentials_token(
    *,
    client_id: str,
    client_secret: str,
    issuer: str | None = None,
    token_url: str | None = None,
    scope: str | None = None,
    resource: str | None = None,
    audience: str | None = None,
    refresh_before: float = DEFAULT_REFRESH_BEFORE,
) -> AsyncCachedToken:
    """:func:`client_credentials_token` for the :class:`AsyncClient`: fetches off the event loop."""
    fetch = ClientCredentials(
        client_id=client_id,
        client_secret=client_secret,
        issuer=issuer,
        token_url=token_url,
        scope=scope,
        resource=resource,
        audience=audience,
    )

    async def fetch_async() -> Issued:
        return await asyncio.to_thread(fetch)

    return AsyncCachedToken(fetch_async, refresh_before=refresh_before)


def service_account_token(
    path: str | os.PathLike[str] = SERVICE_ACCOUNT_TOKEN_PATH,
    *,
    refresh_before: float = DEFAULT_REFRESH_BEFORE,
) -> CachedToken:
    """The pod's projected service-account token, for a server that accepts them (TokenReview).

    The kubelet rewrites the file before the token expires; it is read again as soon as it
    changes (one ``stat`` per request), when the token nears its ``exp``, or when the server
    refuses it. Reading a small local file is quick, so the :class:`AsyncClient` takes it too.
    """
    read: list[os.stat_result] = []

    def signature(info: os.stat_result) -> tuple[int, int, int, int]:
        return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)

    def fetch() -> Issued:
        info = os.stat(path)
        with open(path, encoding="utf-8") as file:
            token = file.read().strip()
        if not token:
            raise ValueError(f"service-account token file {os.fspath(path)} is empty")
        read[:] = [info]
        return token

    def stale() -> bool:
        try:
            return not read or signature(os.stat(path)) != signature(read[0])
        except OSError:
            return True

    return CachedToken(fetch, refresh_before=refresh_before, stale=stale)
