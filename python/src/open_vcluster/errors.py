"""Typed errors: every failed call raises an :class:`ApiError` subclass chosen by its code.

The server attaches an ``ErrorDetail`` to its errors; :attr:`ApiError.detail` holds it decoded
(reason, field, every field violation, metadata, retry delay), so callers branch on data rather
than on message text.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING, Generic, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError

from ._gen.constants import ErrorReasons
from .api import ErrorDetail

if TYPE_CHECKING:
    from collections.abc import Sequence

T = TypeVar("T")


@dataclass(frozen=True)
class Violation:
    """One invalid request field and what is wrong with it."""

    field: str
    """Path of the field, e.g. ``spec.resources.cpu_request``."""
    description: str


@dataclass(frozen=True)
class ErrorInfo:
    """The server's ``ErrorDetail``, decoded into plain values."""

    reason: str
    """Stable UPPER_SNAKE_CASE reason, e.g. ``NOT_FOUND`` (see :class:`open_vcluster.ErrorReasons`)."""
    field: str = ""
    """Path of the (first) offending request field; ``""`` when there is none."""
    violations: tuple[Violation, ...] = ()
    """Every problem found in the request, in the order found."""
    omitted_violations: int = 0
    """How many further violations the server found but did not send."""
    metadata: dict[str, str] = dataclass_field(default_factory=dict)
    retry_delay: float | None = None
    """How long the server asks the client to wait before retrying, in seconds."""


def error_info(error: ConnectError) -> ErrorInfo | None:
    """Decodes the ``ErrorDetail`` a Connect error carries; ``None`` when it has none."""
    for detail in error.details:
        if detail.type_name != ErrorDetail.desc().type_name:
            continue
        decoded = detail.value(ErrorDetail)
        if decoded is None:
            continue
        delay = decoded.retry_delay
        return ErrorInfo(
            reason=decoded.reason,
            field=decoded.field,
            violations=tuple(Violation(v.field, v.description) for v in decoded.violations),
            omitted_violations=decoded.omitted_violations,
            metadata=dict(decoded.metadata),
            retry_delay=delay.seconds + delay.nanos / 1e9 if delay is not None else None,
        )
    return None


class ApiError(Exception):
    """A call failed. Subclasses name the code; :attr:`detail` carries the server's reason.

    The original :class:`connectrpc.errors.ConnectError` is the ``__cause__``.
    """

    code: Code
    """The RPC status code."""
    message: str
    """The server's (or transport's) message, without the attempt count."""
    detail: ErrorInfo | None
    """The decoded ``ErrorDetail``, when the server sent one."""
    attempts: int
    """How many attempts the call made, the last included."""
    previous_errors: tuple[ApiError, ...]
    """The errors of the earlier attempts, oldest first."""

    def __init__(
        self,
        code: Code,
        message: str,
        detail: ErrorInfo | None = None,
        *,
        attempts: int = 1,
        previous_errors: Sequence[ApiError] = (),
        note: str = "",
    ) -> None:
        text = f"[{code.name.lower()}] {message}"
        if attempts > 1 or note:
            text += f" (after {attempts} attempt{'s' if attempts != 1 else ''}{'; ' + note if note else ''})"
        super().__init__(text)
        self.code = code
        self.message = message
        self.detail = detail
        self.attempts = attempts
        self.previous_errors = tuple(previous_errors)

    @property
    def reason(self) -> str:
        """The ``ErrorDetail`` reason, ``""`` when there is none."""
        return self.detail.reason if self.detail else ""

    @property
    def violations(self) -> tuple[Violation, ...]:
        """Every field violation the server reported (empty when there are none)."""
        return self.detail.violations if self.detail else ()


class CanceledError(ApiError):
    """CANCELED: the call was cancelled."""


class UnknownError(ApiError):
    """UNKNOWN."""


class InvalidArgumentError(ApiError):
    """INVALID_ARGUMENT: the request is invalid; :attr:`violations` lists every problem."""


class DeadlineExceededError(ApiError):
    """DEADLINE_EXCEEDED: the call's time budget ran out."""


class NotFoundError(ApiError):
    """NOT_FOUND: the object does not exist (or the caller may not see it)."""


class AlreadyExistsError(ApiError):
    """ALREADY_EXISTS: an object with that name exists."""


class PermissionDeniedError(ApiError):
    """PERMISSION_DENIED."""


class ResourceExhaustedError(ApiError):
    """RESOURCE_EXHAUSTED: a quota, limit or rate was reached."""


class FailedPreconditionError(ApiError):
    """FAILED_PRECONDITION: the object's state does not allow the operation."""


class AbortedError(ApiError):
    """ABORTED: a concurrency conflict."""


class OutOfRangeError(ApiError):
    """OUT_OF_RANGE."""


class ResourceVersionExpiredError(OutOfRangeError):
    """The watch's resource version left the server's history: list again, then watch."""


class UnimplementedError(ApiError):
    """UNIMPLEMENTED."""


class InternalError(ApiError):
    """INTERNAL."""


class UnavailableError(ApiError):
    """UNAVAILABLE: the server cannot serve now; retrying may succeed."""


class DataLossError(ApiError):
    """DATA_LOSS."""


class UnauthenticatedError(ApiError):
    """UNAUTHENTICATED: the request carries no valid credentials."""


_BY_CODE: dict[Code, type[ApiError]] = {
    Code.CANCELED: CanceledError,
    Code.UNKNOWN: UnknownError,
    Code.INVALID_ARGUMENT: InvalidArgumentError,
    Code.DEADLINE_EXCEEDED: DeadlineExceededError,
    Code.NOT_FOUND: NotFoundError,
    Code.ALREADY_EXISTS: AlreadyExistsError,
    Code.PERMISSION_DENIED: PermissionDeniedError,
    Code.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    Code.FAILED_PRECONDITION: FailedPreconditionError,
    Code.ABORTED: AbortedError,
    Code.OUT_OF_RANGE: OutOfRangeError,
    Code.UNIMPLEMENTED: UnimplementedError,
    Code.INTERNAL: InternalError,
    Code.UNAVAILABLE: UnavailableError,
    Code.DATA_LOSS: DataLossError,
    Code.UNAUTHENTICATED: UnauthenticatedError,
}


def error_class(code: Code, detail: ErrorInfo | None) -> type[ApiError]:
    """The most specific :class:`ApiError` subclass for a code and reason."""
    if code == Code.OUT_OF_RANGE and detail and detail.reason == ErrorReasons.RESOURCE_VERSION_EXPIRED:
        return ResourceVersionExpiredError
    return _BY_CODE.get(code, ApiError)


def from_connect_error(
    error: ConnectError,
    *,
    attempts: int = 1,
    previous_errors: Sequence[ApiError] = (),
    note: str = "",
) -> ApiError:
    """Turns a Connect error into the matching :class:`ApiError`, chained to the original."""
    detail = error_info(error)
    cls = error_class(error.code, detail)
    result = cls(error.code, error.message, detail, attempts=attempts, previous_errors=previous_errors, note=note)
    result.__cause__ = error
    return result


def with_attempts(error: ApiError, previous_errors: Sequence[ApiError], note: str = "") -> ApiError:
    """The final error of a call attempted more than once: the last error plus the history."""
    result = type(error)(
        error.code,
        error.message,
        error.detail,
        attempts=len(previous_errors) + 1,
        previous_errors=previous_errors,
        note=note,
    )
    result.__cause__ = error.__cause__
    return result


class RepeatedPageTokenError(Exception):
    """The server handed out a page token twice; following it would loop forever."""

    def __init__(self, page_token: str) -> None:
        super().__init__(f'the server returned page token "{page_token}" twice; stopping instead of looping')
        self.page_token = page_token


class WaitTimeoutError(TimeoutError, Generic[T]):
    """A wait ran out of time; :attr:`last_observed` is the newest state seen (``None`` if none)."""

    def __init__(self, target: str, timeout: float, last_observed: T | None) -> None:
        super().__init__(f"timed out after {timeout:g} s waiting for {target}")
        self.target = target
        self.timeout = timeout
        self.last_observed = last_observed


class WaitFailedError(Exception, Generic[T]):
    """The object reached a state from which the awaited one cannot follow (e.g. phase ERROR)."""

    def __init__(self, target: str, reason: str, message: str, last_observed: T | None) -> None:
        super().__init__(f"{target}: {message}")
        self.target = target
        self.reason = reason
        """Machine-readable reason, e.g. the vcluster's ``status.reason``."""
        self.last_observed = last_observed


class WatchEndedError(UnavailableError):
    """The server ended a watch stream cleanly; a watch never ends silently, so it reconnects."""
