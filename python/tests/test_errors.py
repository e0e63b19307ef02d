"""Typed errors decode the server's ErrorDetail, every violation included."""

from __future__ import annotations

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from protobuf.wkt import Duration

from open_vcluster import ErrorReasons, Violation
from open_vcluster.api import ErrorDetail, FieldViolation
from open_vcluster.errors import (
    InvalidArgumentError,
    OutOfRangeError,
    ResourceVersionExpiredError,
    UnavailableError,
    from_connect_error,
    with_attempts,
)


def test_every_violation_is_decoded() -> None:
    detail = ErrorDetail(
        reason=ErrorReasons.INVALID_FIELD,
        field="name",
        violations=[
            FieldViolation(field="name", description="must be a DNS-1123 label"),
            FieldViolation(field="spec.replicas", description="must be at least 1"),
        ],
        omitted_violations=3,
        metadata={"limit": "2"},
    )
    error = from_connect_error(ConnectError(Code.INVALID_ARGUMENT, "name: must be a DNS-1123 label", [detail]))
    assert isinstance(error, InvalidArgumentError)
    assert error.reason == ErrorReasons.INVALID_FIELD
    assert error.violations == (
        Violation("name", "must be a DNS-1123 label"),
        Violation("spec.replicas", "must be at least 1"),
    )
    assert error.detail is not None
    assert error.detail.omitted_violations == 3
    assert error.detail.metadata == {"limit": "2"}
    assert isinstance(error.__cause__, ConnectError)


def test_expired_resource_version_has_its_own_class() -> None:
    expired = ErrorDetail(reason=ErrorReasons.RESOURCE_VERSION_EXPIRED)
    error = from_connect_error(ConnectError(Code.OUT_OF_RANGE, "too old", [expired]))
    assert isinstance(error, ResourceVersionExpiredError)
    assert type(from_connect_error(ConnectError(Code.OUT_OF_RANGE, "other"))) is OutOfRangeError


def test_retry_delay_and_attempt_history() -> None:
    hint = ErrorDetail(reason=ErrorReasons.UNAVAILABLE, retry_delay=Duration(seconds=1, nanos=500_000_000))
    first = from_connect_error(ConnectError(Code.UNAVAILABLE, "restarting", [hint]))
    assert first.detail is not None
    assert first.detail.retry_delay == 1.5
    final = with_attempts(first, [first, first])
    assert isinstance(final, UnavailableError)
    assert final.attempts == 3
    assert str(final) == "[unavailable] restarting (after 3 attempts)"
    assert final.message == "restarting"
