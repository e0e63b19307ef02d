"""A Create whose first responses are lost yields exactly one vcluster; other mutations are not repeated."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest
from connectrpc.code import Code
from protobuf.wkt import FieldMask

from open_vcluster import AsyncClient, Client, Protocol, RetryEvent, RetryPolicy
from open_vcluster.api import CreateVClusterRequest, GetVClusterRequest, ListVClustersRequest, UpdateVClusterRequest
from open_vcluster.errors import ApiError, UnavailableError
from tests.support.server import UNAVAILABLE, FaultServer


@pytest.fixture(scope="module")
def faulty() -> Iterator[FaultServer]:
    server = FaultServer()
    server.start()
    yield server
    server.stop()


def count_named(client: Client, name: str) -> int:
    return sum(1 for v in client.paginate_vclusters(ListVClustersRequest()) if v.name == name)


def test_create_with_lost_responses_creates_exactly_one(faulty: FaultServer, protocol: Protocol) -> None:
    name = f"once-{uuid.uuid4().hex[:8]}"
    retries: list[RetryEvent] = []
    # The handler runs and commits, then the response is lost: twice.
    faulty.inject_rpc("CreateVCluster", UNAVAILABLE, "after", count=2)
    with Client(faulty.url, protocol=protocol, on_retry=retries.append) as client:
        created = client.create_vcluster(CreateVClusterRequest(name=name))
        assert created.vcluster is not None
        assert [r.attempt for r in retries] == [1, 2]
        assert {r.procedure for r in retries} == {"vcluster.api.v1.VClusterService/CreateVCluster"}
        assert count_named(client, name) == 1


def test_caller_request_id_is_kept(faulty: FaultServer) -> None:
    name = f"mine-{uuid.uuid4().hex[:8]}"
    faulty.inject_rpc("CreateVCluster", UNAVAILABLE, "after", count=1)
    with Client(faulty.url) as client:
        first = client.create_vcluster(CreateVClusterRequest(name=name, request_id="caller-key-1"))
        # The same key again returns the first call's response instead of ALREADY_EXISTS.
        again = client.create_vcluster(CreateVClusterRequest(name=name, request_id="caller-key-1"))
        assert first.vcluster is not None
        assert again.vcluster is not None
        assert again.vcluster.id == first.vcluster.id
        assert count_named(client, name) == 1


def test_update_is_not_repeated_when_its_response_is_lost(faulty: FaultServer) -> None:
    name = f"upd-{uuid.uuid4().hex[:8]}"
    with Client(faulty.url) as client:
        client.create_vcluster(CreateVClusterRequest(name=name))
        client.wait_until_running(name, timeout=60)
        faulty.inject_rpc("UpdateVCluster", UNAVAILABLE, "after", count=1)
        update = UpdateVClusterRequest(name=name, labels={"team": "a"}, update_mask=FieldMask(paths=["labels"]))
        with pytest.raises(UnavailableError) as failed:
            client.update_vcluster(update)
        # The server may have applied it: one attempt, reported as such.
        assert failed.value.attempts == 1


def test_final_error_counts_the_attempts(faulty: FaultServer) -> None:
    name = f"down-{uuid.uuid4().hex[:8]}"
    faulty.inject_rpc("CreateVCluster", UNAVAILABLE, "before", count=3)
    with Client(faulty.url) as client, pytest.raises(UnavailableError) as failed:
        client.create_vcluster(CreateVClusterRequest(name=name))
    assert failed.value.attempts == 3
    assert len(failed.value.previous_errors) == 2
    assert "after 3 attempts" in str(failed.value)


async def test_async_create_with_lost_responses_creates_exactly_one(faulty: FaultServer, protocol: Protocol) -> None:
    name = f"aonce-{uuid.uuid4().hex[:8]}"
    faulty.inject_rpc("CreateVCluster", UNAVAILABLE, "after", count=2)
    async with AsyncClient(faulty.url, protocol=protocol) as client:
        await client.create_vcluster(CreateVClusterRequest(name=name))
        names = [v.name async for v in client.paginate_vclusters(ListVClustersRequest())]
    assert names.count(name) == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("protocol", ["connect", "grpc"])
def test_a_refused_connection_is_retried_even_for_a_mutation(protocol: Protocol) -> None:
    # Nothing listens: the request never left the client, so repeating the update is safe.
    url = f"http://127.0.0.1:{closed_port()}"
    client = Client(url, protocol=protocol, retry=RetryPolicy(base_delay=0.01))
    with client, pytest.raises(UnavailableError) as failed:
        client.update_vcluster(UpdateVClusterRequest(name="x", labels={"a": "b"}))
    assert failed.value.attempts == 3


def test_timeout_is_the_budget_of_every_attempt_together(faulty: FaultServer) -> None:
    faulty.inject_rpc("GetVCluster", UNAVAILABLE, "before", count=50)
    policy = RetryPolicy(max_attempts=50, base_delay=0.5, max_delay=0.5)
    client = Client(faulty.url, retry=policy, random=lambda: 0.999)
    try:
        with client, pytest.raises(ApiError) as failed:
            client.get_vcluster(GetVClusterRequest(name="anything"), timeout=3.0)
    finally:
        faulty.clear_faults()
    # The budget ended the call, not the attempt limit: about 0.5 s per backoff leaves room for a
    # handful of attempts in 3 s (fewer on a slow machine, where an attempt may time out itself).
    assert failed.value.code in (Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED)
    assert failed.value.attempts < policy.max_attempts
    assert "no time left for another attempt" in str(failed.value)
