"""The full lifecycle against the real server, sync and async, over every protocol."""

from __future__ import annotations

import base64
import uuid

import pytest

from open_vcluster import AsyncClient, Client, ErrorReasons, Protocol
from open_vcluster.api import (
    CreateVClusterRequest,
    DeleteVClusterRequest,
    GetVClusterKubeconfigRequest,
    GetVClusterRequest,
    Phase,
    ResourceRequirements,
    ResumeVClusterRequest,
    ScaleVClusterRequest,
    SnapshotVClusterRequest,
    SuspendVClusterRequest,
    VClusterSpec,
)
from open_vcluster.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from tests.support.server import ServerProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_sync_lifecycle(server: ServerProcess, protocol: Protocol) -> None:
    name = unique("life")
    with Client(server.url, protocol=protocol) as client:
        created = client.create_vcluster(CreateVClusterRequest(name=name, spec=VClusterSpec(replicas=1)))
        assert created.vcluster is not None
        assert created.operation_id
        running = client.wait_until_running(name, after=created, timeout=60)
        assert running.status is not None
        assert running.status.phase == Phase.RUNNING

        with pytest.raises(AlreadyExistsError) as exists:
            client.create_vcluster(CreateVClusterRequest(name=name))
        assert exists.value.reason == ErrorReasons.ALREADY_EXISTS

        scaled = client.scale_vcluster(
            ScaleVClusterRequest(name=name, resources=ResourceRequirements(cpu_request="500m"))
        )
        assert scaled.vcluster is not None
        assert scaled.vcluster.status is not None
        assert scaled.vcluster.status.phase == Phase.SCALING
        running = client.wait_until_running(name, after=scaled, timeout=60)
        assert running.spec is not None
        assert running.spec.resources is not None
        assert running.spec.resources.cpu_request == "500m"

        suspended = client.suspend_vcluster(SuspendVClusterRequest(name=name))
        client.wait_until_suspended(name, after=suspended, timeout=60)
        resumed = client.resume_vcluster(ResumeVClusterRequest(name=name))
        client.wait_until_running(name, after=resumed, timeout=60)

        snap = client.snapshot_vcluster(SnapshotVClusterRequest(name=name, snapshot_name=f"{name}-snap"))
        assert snap.snapshot is not None
        ready = client.wait_until_snapshot_ready(snap.snapshot.id, timeout=60)
        assert ready.name == f"{name}-snap"

        kubeconfig = client.get_vcluster_kubeconfig(GetVClusterKubeconfigRequest(name=name))
        assert "apiVersion: v1" in base64.b64decode(kubeconfig.kubeconfig).decode()

        client.delete_vcluster(DeleteVClusterRequest(name=name))
        client.wait_until_deleted(name, timeout=60)
        with pytest.raises(NotFoundError) as missing:
            client.get_vcluster(GetVClusterRequest(name=name))
        assert missing.value.reason == ErrorReasons.NOT_FOUND
        assert missing.value.attempts == 1


def test_invalid_request_names_the_field(server: ServerProcess, protocol: Protocol) -> None:
    with Client(server.url, protocol=protocol) as client, pytest.raises(InvalidArgumentError) as invalid:
        client.create_vcluster(CreateVClusterRequest(name="Not_A_Label"))
    assert invalid.value.reason == ErrorReasons.INVALID_FIELD
    assert invalid.value.detail is not None
    assert invalid.value.detail.field == "name"
    # Every violation, as structured data: the first one is the field above.
    assert invalid.value.violations
    assert invalid.value.violations[0].field == "name"


async def test_async_lifecycle(server: ServerProcess, protocol: Protocol) -> None:
    name = unique("alife")
    async with AsyncClient(server.url, protocol=protocol) as client:
        created = await client.create_vcluster(CreateVClusterRequest(name=name))
        running = await client.wait_until_running(name, after=created, timeout=60)
        assert running.status is not None
        assert running.status.phase == Phase.RUNNING
        suspended = await client.suspend_vcluster(SuspendVClusterRequest(name=name))
        await client.wait_until_suspended(name, after=suspended, timeout=60)
        resumed = await client.resume_vcluster(ResumeVClusterRequest(name=name))
        await client.wait_until_running(name, after=resumed, timeout=60)
        snap = await client.snapshot_vcluster(SnapshotVClusterRequest(name=name, snapshot_name=f"{name}-snap"))
        assert snap.snapshot is not None
        ready = await client.wait_until_snapshot_ready(snap.snapshot.id, timeout=60)
        assert ready.name == f"{name}-snap"
        await client.delete_vcluster(DeleteVClusterRequest(name=name))
        await client.wait_until_deleted(name, timeout=60)
        with pytest.raises(NotFoundError):
            await client.get_vcluster(GetVClusterRequest(name=name))
