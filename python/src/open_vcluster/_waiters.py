"""Waiters driven by the watch: read the state once, then follow the stream from its version.

The goals and the anchor (which states count) are pure and shared; the sync and the async
client each run the loop in :func:`wait_sync` / :func:`wait_async`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from typing import Literal, Protocol

from ._gen.constants import Annotations, Phases
from ._watch import WatchEvent, compare_resource_versions, resource_version_of
from .api import Phase, Snapshot, SnapshotStatus, VCluster, WatchEventType
from .errors import (
    DeadlineExceededError,
    NotFoundError,
    ResourceVersionExpiredError,
    WaitFailedError,
    WaitTimeoutError,
)

Verdict = Literal["done", "pending"] | tuple[str, str]
"""``"done"``, ``"pending"`` or a failure as (reason, message)."""

DEFAULT_WAIT_TIMEOUT = 600.0


class MutationResponse(Protocol):
    """Any mutation response: the operation id and, on most, the vcluster as the server accepted the change."""

    @property
    def operation_id(self) -> str: ...


After = MutationResponse | str | None
"""What a wait is anchored on: a mutation response, an operation id, or nothing."""


class Anchor:
    """Which observed states count: never one from before the caller's own operation.

    From a mutation response: states at least as new as the returned object whose observed
    generation has caught up with its generation. From an operation id: states from the first
    one that carries the id (in the ``operation-id`` annotation) on.
    """

    def __init__(self, after: After) -> None:
        self.operation_id = ""
        self._min_version = ""
        self._min_generation = 0
        if isinstance(after, str):
            self.operation_id = after
        elif after is not None:
            self.operation_id = after.operation_id
            # Responses without the object (e.g. a snapshot's) anchor on the operation id alone.
            vcluster: VCluster | None = getattr(after, "vcluster", None)
            if vcluster is not None:
                self._min_version = resource_version_of(vcluster)
                self._min_generation = generation_of(vcluster)

    def admits(self, vcluster: VCluster) -> bool:
        version = resource_version_of(vcluster)
        if self._min_version and compare_resource_versions(version, self._min_version) < 0:
            return False
        observed = vcluster.status.observed_generation if vcluster.status is not None else 0
        if self._min_generation and observed < self._min_generation:
            return False
        if self.operation_id and not self._min_version:
            if vcluster.annotations.get(Annotations.OPERATION_ID, "") != self.operation_id:
                return False
            # Later states count even when another operation follows ours.
            self._min_version = version
        return True


@dataclass(frozen=True)
class Goal:
    """What a wait waits for."""

    description: str
    check: Callable[[VCluster], Verdict]
    deletion_is_goal: bool = False


def _phase(vcluster: VCluster) -> Phase:
    return vcluster.status.phase if vcluster.status is not None else Phase.UNSPECIFIED


def failed_on_error(vcluster: VCluster) -> tuple[str, str] | None:
    """Phase ERROR fails every wait at once, with the vcluster's reason."""
    if _phase(vcluster) != Phase.ERROR or vcluster.status is None:
        return None
    return (vcluster.status.reason or "Error", vcluster.status.message or "the vcluster is in phase ERROR")


def generation_of(vcluster: VCluster) -> int:
    """The desired-state generation the server stamped on the object (0 when absent)."""
    raw = vcluster.annotations.get(Annotations.GENERATION, "")
    return int(raw) if raw.isdigit() else 0


def is_settled(vcluster: VCluster) -> bool:
    """Whether the server has finished acting on the vcluster.

    Its phase is settled (``Phases.SETTLED``, from the contract) and it observed the latest
    generation: a suspend in progress, for instance, is RUNNING but not settled.
    """
    if _phase(vcluster) not in Phases.SETTLED or vcluster.status is None:
        return False
    return vcluster.status.observed_generation >= generation_of(vcluster)


def reach_phase(target: Phase) -> Goal:
    def check(vcluster: VCluster) -> Verdict:
        phase = _phase(vcluster)
        if phase == target and is_settled(vcluster):
            return "done"
        failure = failed_on_error(vcluster)
        if failure is not None:
            return failure
        if phase == Phase.DELETING:
            return ("Deleting", "the vcluster is being deleted")
        return "pending"

    return Goal(f"phase {target.name}", check)


DELETED = Goal("deletion", lambda v: failed_on_error(v) or "pending", deletion_is_goal=True)


def predicate_goal(predicate: Callable[[VCluster], bool], description: str) -> Goal:
    """A goal from a predicate; phase ERROR still fails at once."""

    def check(vcluster: VCluster) -> Verdict:
        if predicate(vcluster):
            return "done"
        return failed_on_error(vcluster) or "pending"

    return Goal(description, check)


def condition_goal(condition_type: str, status: str) -> Goal:
    """A goal: the vcluster has a condition of this type with this status (e.g. Ready, True)."""

    def has(vcluster: VCluster) -> bool:
        conditions = vcluster.status.conditions if vcluster.status is not None else []
        return any(c.type == condition_type and c.status == status for c in conditions)

    return predicate_goal(has, f"condition {condition_type}={status}")


def custom_goal(
    predicate: Callable[[VCluster], bool] | None, condition: tuple[str, str] | None, description: str
) -> Goal:
    """The goal of a general wait: exactly one of a predicate or a (type, status) condition."""
    if (predicate is None) == (condition is None):
        raise ValueError("wait_for needs exactly one of predicate= or condition=")
    if condition is not None:
        return condition_goal(*condition)
    assert predicate is not None
    return predicate_goal(predicate, description or getattr(predicate, "__name__", "the predicate"))


class WaitRun:
    """The bookkeeping of one wait: the deadline, the last observed state, the verdicts."""

    def __init__(
        self,
        target: str,
        goal: Goal,
        anchor: Anchor,
        timeout: float,
        on_progress: Callable[[VCluster], None] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.goal = goal
        self.anchor = anchor
        self.timeout = timeout
        self.deadline = clock() + timeout
        self._clock = clock
        self._on_progress = on_progress
        self.last: VCluster | None = None
        self.vcluster_id = ""

    def left(self) -> float:
        left = self.deadline - self._clock()
        if left <= 0:
            raise self.timed_out()
        return left

    def timed_out(self) -> WaitTimeoutError[VCluster]:
        return WaitTimeoutError(self.target, self.timeout, self.last)

    def settle(self, vcluster: VCluster) -> bool:
        """Records a state; True when the goal is reached, raises when it cannot be."""
        self.last = vcluster
        if self._on_progress is not None:
            self._on_progress(vcluster)
        if not self.anchor.admits(vcluster):
            return False
        verdict = self.goal.check(vcluster)
        if verdict == "done":
            return True
        if verdict != "pending":
            raise WaitFailedError(self.target, verdict[0], verdict[1], vcluster)
        return False

    def on_event(self, event: WatchEvent) -> VCluster | Literal[False] | None:
        """The result when the wait ends with this event; False to keep watching."""
        if event.vcluster.id != self.vcluster_id:
            return False
        if event.type == WatchEventType.DELETED:
            self.last = event.vcluster
            if self.goal.deletion_is_goal:
                return event.vcluster
            raise WaitFailedError(self.target, "Deleted", "the vcluster was deleted", event.vcluster)
        return event.vcluster if self.settle(event.vcluster) else False


def target_of(namespace: str, name: str, goal: Goal) -> str:
    return f"vcluster {namespace}/{name} to reach {goal.description}"


GetVCluster = Callable[[float], VCluster]
OpenWatch = Callable[[str, float], AbstractContextManager[Iterator[WatchEvent]]]


def wait_sync(run: WaitRun, get: GetVCluster, watch: OpenWatch) -> VCluster | None:
    """Runs a wait: ``get(timeout)`` reads the state, ``watch(version, deadline)`` follows it."""
    while True:
        try:
            current = get(run.left())
        except NotFoundError:
            if run.goal.deletion_is_goal:
                return None
            raise
        except DeadlineExceededError:
            raise run.timed_out() from None
        run.vcluster_id = current.id
        if run.settle(current):
            return current
        try:
            with watch(resource_version_of(current), run.deadline) as events:
                for event in events:
                    result = run.on_event(event)
                    if result is not False:
                        return result
        except ResourceVersionExpiredError:
            continue  # the watch fell behind the server's history: read the state again
        except DeadlineExceededError:
            raise run.timed_out() from None


AsyncGetVCluster = Callable[[float], Awaitable[VCluster]]
AsyncOpenWatch = Callable[[str, float], AbstractAsyncContextManager[AsyncIterator[WatchEvent]]]


async def wait_async(run: WaitRun, get: AsyncGetVCluster, watch: AsyncOpenWatch) -> VCluster | None:
    """The async form of :func:`wait_sync`."""
    while True:
        try:
            current = await get(run.left())
        except NotFoundError:
            if run.goal.deletion_is_goal:
                return None
            raise
        except DeadlineExceededError:
            raise run.timed_out() from None
        run.vcluster_id = current.id
        if run.settle(current):
            return current
        try:
            async with watch(resource_version_of(current), run.deadline) as events:
                async for event in events:
                    result = run.on_event(event)
                    if result is not False:
                        return result
        except ResourceVersionExpiredError:
            continue
        except DeadlineExceededError:
            raise run.timed_out() from None


class SnapshotWaitRun:
    """The bookkeeping of a wait for a snapshot to become READY."""

    def __init__(self, snapshot_id: str, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.snapshot_id = snapshot_id
        self.target = f"snapshot {snapshot_id} to become READY"
        self.timeout = timeout
        self.deadline = clock() + timeout
        self._clock = clock
        self.last: Snapshot | None = None
        self._mirrored = ""

    def left(self) -> float:
        left = self.deadline - self._clock()
        if left <= 0:
            raise self.timed_out()
        return left

    def timed_out(self) -> WaitTimeoutError[Snapshot]:
        return WaitTimeoutError(self.target, self.timeout, self.last)

    def result(self) -> Snapshot:
        assert self.last is not None
        return self.last

    def settle(self, snapshot: Snapshot | None) -> bool:
        """Records a read; True when READY, raises on FAILED or DELETING."""
        if snapshot is None:
            raise RuntimeError(f"GetSnapshot returned no snapshot for {self.snapshot_id}")
        self.last = snapshot
        verdict = snapshot_verdict(snapshot)
        if verdict == "done":
            return True
        if verdict != "pending":
            raise WaitFailedError(self.target, verdict[0], verdict[1], snapshot)
        return False

    def changed(self, event: WatchEvent) -> bool:
        """Whether a watch event of the owning vcluster may mean the snapshot changed."""
        if event.type == WatchEventType.DELETED:
            return True
        status = event.vcluster.status
        mirror = status.last_snapshot if status is not None else None
        if mirror is None or mirror.id != self.snapshot_id or mirror.status == self._mirrored:
            return False
        self._mirrored = mirror.status
        return True


def snapshot_verdict(snapshot: Snapshot) -> Verdict:
    """READY is the goal; FAILED and DELETING fail at once."""
    if snapshot.status == SnapshotStatus.READY:
        return "done"
    if snapshot.status in (SnapshotStatus.FAILED, SnapshotStatus.DELETING):
        return (snapshot.status.name, f"the snapshot is {snapshot.status.name}")
    return "pending"
