"""Walks one vcluster through its whole lifecycle with the Python SDK, printing each step.

Usage: python main.py [server-url]   (or VCLUSTER_API_URL; default http://127.0.0.1:8080)
"""

from __future__ import annotations

import base64
import os
import sys

from open_vcluster import ApiError, Client, RetryEvent
from open_vcluster.api import (
    CreateVClusterRequest,
    DeleteVClusterRequest,
    GetVClusterKubeconfigRequest,
    ListVClustersRequest,
    Phase,
    RestoreVClusterRequest,
    ResumeVClusterRequest,
    SnapshotVClusterRequest,
    SuspendVClusterRequest,
    VCluster,
)
from open_vcluster.errors import AlreadyExistsError


def progress(vcluster: VCluster) -> None:
    """Prints each phase a waiter observes."""
    phase = vcluster.status.phase if vcluster.status is not None else Phase.UNSPECIFIED
    print(f"  phase {phase.name}")


def on_retry(event: RetryEvent) -> None:
    """Prints each retry the client makes."""
    print(f"  retrying {event.procedure} in {event.delay:.2f} s")


def main(base_url: str) -> int:
    """Runs the walk-through; returns the process exit code."""
    name = os.environ.get("VCLUSTER_NAME", "example")
    token = os.environ.get("VCLUSTER_API_TOKEN")
    with Client(base_url, token=token, on_retry=on_retry) as client:
        try:
            print(f"creating default/{name} on {base_url}")
            try:
                created = client.create_vcluster(CreateVClusterRequest(name=name, labels={"example": "python"}))
                client.wait_until_running(name, after=created, on_progress=progress)
            except AlreadyExistsError:
                print("  already exists, reusing it")
                client.wait_until_running(name, on_progress=progress)
            print("running")

            for vcluster in client.paginate_vclusters(ListVClustersRequest(label_selector="example=python")):
                endpoint = vcluster.status.api_server_endpoint if vcluster.status else ""
                print(f"  listed {vcluster.namespace}/{vcluster.name} ({endpoint})")

            suspended = client.suspend_vcluster(SuspendVClusterRequest(name=name))
            client.wait_until_suspended(name, after=suspended, on_progress=progress)
            print("suspended")
            resumed = client.resume_vcluster(ResumeVClusterRequest(name=name))
            client.wait_until_running(name, after=resumed, on_progress=progress)
            print("resumed")

            snap = client.snapshot_vcluster(SnapshotVClusterRequest(name=name, description="example snapshot"))
            assert snap.snapshot is not None
            ready = client.wait_until_snapshot_ready(snap.snapshot.id)
            print(f"snapshot {ready.name} ready ({ready.size_bytes} bytes at {ready.storage_uri})")
            restored = client.restore_vcluster(RestoreVClusterRequest(name=name, snapshot_id=ready.id))
            client.wait_until_running(name, after=restored, on_progress=progress)
            print("restored")

            kubeconfig = client.get_vcluster_kubeconfig(
                GetVClusterKubeconfigRequest(name=name, format="token", validity_hours=1)
            )
            print(f"kubeconfig for {kubeconfig.api_server_endpoint}:")
            for line in base64.b64decode(kubeconfig.kubeconfig).decode().splitlines():
                print(f"    {line}")

            client.delete_vcluster(DeleteVClusterRequest(name=name, delete_snapshots=True))
            client.wait_until_deleted(name)
            print("deleted")
        except ApiError as error:
            print(f"failed: {error}", file=sys.stderr)
            if error.detail is not None:
                where = f" (field {error.detail.field})" if error.detail.field else ""
                print(f"  reason {error.detail.reason}{where}", file=sys.stderr)
                for violation in error.violations:
                    print(f"  {violation.field}: {violation.description}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("VCLUSTER_API_URL", "http://127.0.0.1:8080")))
