"""Waiters: driven by the watch, failing at once on ERROR and NotFound, anchored on the caller's operation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from open_vcluster import Annotations, AsyncClient, Client, Protocol, WaitFailedError, WaitTimeoutError
from open_vcluster._waiters import Anchor
from open_vcluster.api import (
    CreateVClusterRequest,
    CreateVClusterResponse,
    Phase,
    SnapshotVClusterResponse,
    SuspendVClusterRequest,
    VCluster,
    VClusterStatus,
)
from open_vcluster.errors import NotFoundError
from tests.support.server import FaultServer


@pytest.fixture(scope="module")
def faulty() -> Iterator[FaultServer]:
    server = FaultServer(time_scale="0.05")
    server.start()
    yield server
    server.stop()


def phase_of(vcluster: VCluster) -> Phase:
    return vcluster.status.phase if vcluster.status is not None else Phase.UNSPECIFIED


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_error_phase_fails_at_once_with_the_reason(faulty: FaultServer, protocol: Protocol) -> None:
    name = unique("broken")
    faulty.inject_provider("create", "fail")
    progress: list[Phase] = []
    with Client(faulty.url, protocol=protocol) as client:
        created = client.create_vcluster(CreateVClusterRequest(name=name))
        with pytest.raises(WaitFailedError) as failed:
            client.wait_until_running(
                name, after=created, timeout=60, on_progress=lambda v: progress.append(phase_of(v))
            )
    assert failed.value.reason == "ProviderFailed"
    assert failed.value.last_observed is not None
    assert phase_of(failed.value.last_observed) == Phase.ERROR
    assert progress[-1] == Phase.ERROR


def test_not_found_fails_at_once(faulty: FaultServer) -> None:
    with Client(faulty.url) as client, pytest.raises(NotFoundError):
        client.wait_until_running(unique("missing"), timeout=60)


def test_timeout_carries_the_last_object_seen(faulty: FaultServer) -> None:
    name = unique("slow")
    with Client(faulty.url) as client:
        created = client.create_vcluster(CreateVClusterRequest(name=name))
        client.wait_until_running(name, after=created, timeout=60)
        with pytest.raises(WaitTimeoutError) as timed_out:
            client.wait_for(name, predicate=lambda v: False, description="never", timeout=1.5)
    assert timed_out.value.last_observed is not None
    assert timed_out.value.last_observed.name == name
    assert "never" in str(timed_out.value)


def test_wait_for_a_condition(faulty: FaultServer) -> None:
    name = unique("ready")
    with Client(faulty.url) as client:
        created = client.create_vcluster(CreateVClusterRequest(name=name))
        ready = client.wait_for(name, condition=("Ready", "True"), after=created, timeout=60)
    assert ready.status is not None
    assert any(c.type == "Ready" and c.status == "True" for c in ready.status.conditions)


def test_wait_until_suspended_follows_a_slow_suspend(faulty: FaultServer) -> None:
    name = unique("nap")
    with Client(faulty.url) as client:
        client.wait_until_running(name, after=client.create_vcluster(CreateVClusterRequest(name=name)), timeout=60)
        faulty.inject_provider("suspend", "slow", delay_ms=1500)
        suspended = client.suspend_vcluster(SuspendVClusterRequest(name=name))
        phases: list[Phase] = []
        done = client.wait_until_suspended(
            name, after=suspended, timeout=60, on_progress=lambda v: phases.append(phase_of(v))
        )
    assert done.status is not None
    assert done.status.phase == Phase.SUSPENDED
    assert phases[0] != Phase.SUSPENDED  # it waited through the transition instead of returning a stale state


async def test_async_waiters(faulty: FaultServer) -> None:
    name = unique("async")
    async with AsyncClient(faulty.url, protocol="grpc") as client:
        created = await client.create_vcluster(CreateVClusterRequest(name=name))
        running = await client.wait_until_running(name, after=created, timeout=60)
        assert running.status is not None
        with pytest.raises(WaitTimeoutError) as timed_out:
            await client.wait_for(name, predicate=lambda v: v.status is None, timeout=1.0)
        assert timed_out.value.last_observed is not None
        with pytest.raises(NotFoundError):
            await client.wait_until_suspended(unique("missing"), timeout=60)


def state(version: str, generation: str, observed: int, operation: str, phase: Phase) -> VCluster:
    return VCluster(
        name="a",
        annotations={
            Annotations.RESOURCE_VERSION: version,
            Annotations.GENERATION: generation,
            Annotations.OPERATION_ID: operation,
        },
        status=VClusterStatus(phase=phase, observed_generation=observed),
    )


def test_anchor_never_admits_the_state_from_before_the_operation() -> None:
    before = state("7", "1", 1, "op-old", Phase.RUNNING)
    accepted = state("8", "2", 1, "op-new", Phase.UPDATING)
    response = CreateVClusterResponse(vcluster=accepted, operation_id="op-new")
    anchor = Anchor(response)
    assert not anchor.admits(before)
    assert not anchor.admits(state("9", "2", 1, "op-new", Phase.RUNNING))  # not acted on the new spec yet
    assert anchor.admits(state("10", "2", 2, "op-new", Phase.RUNNING))

    by_id = Anchor("op-new")
    assert not by_id.admits(before)
    assert by_id.admits(state("10", "2", 2, "op-new", Phase.RUNNING))
    assert by_id.admits(state("11", "3", 3, "op-later", Phase.RUNNING))  # later operations follow ours
    assert Anchor(None).admits(before)
    snapshot_response = SnapshotVClusterResponse(operation_id="op-new")
    assert not Anchor(snapshot_response).admits(before)
    assert Anchor(snapshot_response).admits(state("12", "2", 2, "op-new", Phase.SNAPSHOTTING))
