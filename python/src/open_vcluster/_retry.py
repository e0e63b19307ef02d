"""The retry policy: which failures are retried, how long to wait, and when to give up.

Everything here is free of I/O so the sync and the async client share it; each client only
runs the loop (``time.sleep`` or ``asyncio.sleep`` between attempts).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectrpc.code import Code
from protobuf.wkt.google.protobuf.descriptor_pb import MethodOptions

from ._gen.constants import ErrorReasons
from .errors import ApiError, with_attempts

if TYPE_CHECKING:
    from protobuf import DescMethod

Clock = Callable[[], float]
"""Returns the current time in seconds (monotonic)."""
Random = Callable[[], float]
"""Returns a number in [0, 1)."""

REQUEST_ID_FIELD = "request_id"

_TRANSIENT = frozenset({Code.UNAVAILABLE, Code.RESOURCE_EXHAUSTED, Code.ABORTED, Code.DEADLINE_EXCEEDED})

# Transport messages that mean the request never reached the server.
_NOT_SENT_MARKERS = ("tcp connect error", "connection refused", "dns error", "refused_stream")


@dataclass(frozen=True)
class RetryBudgetOptions:
    """A client-wide token bucket: retries spend tokens, successes earn them back."""

    capacity: int = 500
    """Tokens the bucket holds when full."""
    retry_cost: int = 5
    """Tokens a retry takes."""
    timeout_retry_cost: int = 10
    """Tokens a retry after a timeout takes (timeouts hint at overload)."""
    success_refill: int = 1
    """Tokens a call that succeeded at once gives back."""


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries failed calls. Pass ``retry=None`` to a client to disable retries."""

    max_attempts: int = 3
    """Attempts per call, the first included; 1 disables retries."""
    base_delay: float = 0.1
    """Upper bound of the first backoff delay, in seconds."""
    throttled_base_delay: float = 1.0
    """Upper bound of the first backoff delay after RESOURCE_EXHAUSTED, in seconds."""
    max_delay: float = 20.0
    """No backoff delay exceeds this (a server retry-delay hint may)."""
    attempt_timeout: float | None = None
    """Timeout of each attempt, clamped to what is left of the call's ``timeout``."""
    budget: RetryBudgetOptions = RetryBudgetOptions()


def to_ms(seconds: float) -> int:
    return round(seconds * 1000)


def full_jitter_delay_ms(retry: int, initial_ms: int, max_ms: int, random: Random, multiplier: float = 2.0) -> int:
    """``floor(random * min(max_ms, initial_ms * multiplier**retry))`` for the zero-based retry number.

    Spreading retries over the whole window avoids synchronised retry waves from many clients.
    """
    ceiling = min(max_ms, initial_ms * multiplier**retry)
    return math.floor(random() * ceiling)


class Backoff:
    """Full-jitter backoff that grows with consecutive failures and resets after a success."""

    def __init__(self, initial: float, maximum: float, random: Random) -> None:
        self._initial_ms = to_ms(initial)
        self._max_ms = to_ms(maximum)
        self._random = random
        self._failures = 0

    def next(self) -> float:
        """The next delay, in seconds."""
        delay = full_jitter_delay_ms(self._failures, self._initial_ms, self._max_ms, self._random)
        self._failures += 1
        return delay / 1000

    def reset(self) -> None:
        self._failures = 0


class RetryBudget:
    """The token bucket shared by every call of one client (thread-safe)."""

    def __init__(self, options: RetryBudgetOptions) -> None:
        self._options = options
        self._tokens = options.capacity
        self._lock = threading.Lock()

    @property
    def available(self) -> int:
        return self._tokens

    def acquire(self, after_timeout: bool) -> int | None:
        """Takes the cost of one retry; ``None`` when the budget is spent."""
        cost = self._options.timeout_retry_cost if after_timeout else self._options.retry_cost
        with self._lock:
            if self._tokens < cost:
                return None
            self._tokens -= cost
            return cost

    def succeeded(self, last_retry_cost: int | None) -> None:
        """Refunds what the call's last retry took, or a small refill when it needed none."""
        refill = self._options.success_refill if last_retry_cost is None else last_retry_cost
        with self._lock:
            self._tokens = min(self._options.capacity, self._tokens + refill)


def has_request_id(method: DescMethod) -> bool:
    """Whether the method's request carries an idempotency key the SDK can fill."""
    return any(f.name == REQUEST_ID_FIELD for f in method.input.fields)


def is_safe_to_repeat(method: DescMethod) -> bool:
    """Read-only methods and methods with a request id (filled once per call) may be repeated."""
    return method.idempotency == MethodOptions.IdempotencyLevel.NO_SIDE_EFFECTS or has_request_id(method)


def is_transient(code: Code) -> bool:
    """Codes a repeat may fix."""
    return code in _TRANSIENT


def is_not_processed(error: ApiError) -> bool:
    """Proof that the server did not process the request, so even a mutation may be repeated.

    The connection was refused or the name did not resolve (the request never left), the HTTP/2
    stream was refused, or the server answered RESOURCE_EXHAUSTED with reason RESOURCE_EXHAUSTED,
    which it does for rate limits and admission before any work.
    """
    current: BaseException | None = error
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        text = str(current).lower()
        if any(marker in text for marker in _NOT_SENT_MARKERS):
            return True
        current = current.__cause__
    return error.code == Code.RESOURCE_EXHAUSTED and error.reason == ErrorReasons.RESOURCE_EXHAUSTED


def should_retry(code: Code, safe: bool, not_processed: bool) -> bool:
    """The retry decision: safe calls on transient codes, any call the server provably did not see."""
    return is_transient(code) if safe else not_processed


def backoff_delay(error: ApiError, attempt: int, policy: RetryPolicy, random: Random) -> float:
    """The wait before the attempt after ``attempt`` (1-based): full jitter, never below the server's hint."""
    base = policy.throttled_base_delay if error.code == Code.RESOURCE_EXHAUSTED else policy.base_delay
    jittered = full_jitter_delay_ms(attempt - 1, to_ms(base), to_ms(policy.max_delay), random)
    hint = error.detail.retry_delay if error.detail and error.detail.retry_delay is not None else 0.0
    return max(jittered, to_ms(hint)) / 1000


@dataclass
class RetryEvent:
    """Reported to ``on_retry`` before each backoff sleep."""

    procedure: str
    """Fully qualified method, e.g. ``vcluster.api.v1.VClusterService/GetVCluster``."""
    attempt: int
    """The attempt that failed (1-based)."""
    error: ApiError
    delay: float
    """Seconds until the next attempt."""


class CallPlan:
    """The retry state of one logical call: attempt timeouts, the decision after each failure."""

    def __init__(
        self,
        *,
        policy: RetryPolicy | None,
        budget: RetryBudget | None,
        method: DescMethod,
        timeout: float | None,
        clock: Clock = time.monotonic,
        random: Random,
        safe: bool | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
    ) -> None:
        self._policy = policy or RetryPolicy(max_attempts=1)
        self._budget = budget
        self._method = method
        self._clock = clock
        self._random = random
        self._on_retry = on_retry
        self._safe = is_safe_to_repeat(method) if safe is None else safe
        self._deadline = None if timeout is None or timeout <= 0 else clock() + timeout
        self._errors: list[ApiError] = []
        self._last_cost: int | None = None
        self.attempt = 0

    def attempt_timeout_ms(self) -> int | None:
        """Starts an attempt; returns its timeout: what is left of the call, at most the attempt timeout."""
        self.attempt += 1
        left = None if self._deadline is None else max(0.0, self._deadline - self._clock())
        limit = self._policy.attempt_timeout
        if limit is not None:
            left = limit if left is None else min(left, limit)
        return None if left is None else max(1, math.ceil(left * 1000))

    def succeeded(self) -> None:
        if self._budget is not None:
            self._budget.succeeded(self._last_cost)

    def failed(self, error: ApiError) -> float:
        """Returns the delay before the next attempt, or raises the call's final error."""
        procedure = f"{self._method.parent.type_name}/{self._method.name}"
        if not should_retry(error.code, self._safe, is_not_processed(error)):
            raise self._final(error)
        if self.attempt >= self._policy.max_attempts:
            raise self._final(error)
        delay = backoff_delay(error, self.attempt, self._policy, self._random)
        if self._deadline is not None and delay >= self._deadline - self._clock():
            # Waiting past the deadline only to fail there helps no one.
            raise self._final(error, "no time left for another attempt")
        if self._budget is not None:
            self._last_cost = self._budget.acquire(error.code == Code.DEADLINE_EXCEEDED)
            if self._last_cost is None:
                raise self._final(error, "retry budget exhausted")
        self._errors.append(error)
        if self._on_retry is not None:
            self._on_retry(RetryEvent(procedure, self.attempt, error, delay))
        return delay

    def _final(self, error: ApiError, note: str = "") -> ApiError:
        if not self._errors and not note:
            return error
        return with_attempts(error, self._errors, note)
