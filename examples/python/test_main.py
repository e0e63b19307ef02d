"""Runs the example against the real reference server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.server import start_server

MAIN = Path(__file__).with_name("main.py")


def test_walks_a_vcluster_through_its_whole_lifecycle() -> None:
    server = start_server(time_scale="0.05")
    try:
        result = subprocess.run(
            [sys.executable, str(MAIN), server.url], capture_output=True, text=True, timeout=120, check=False
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stdout.splitlines() if line and not line.startswith(" ")]
    assert steps[:4] == [f"creating default/example on {server.url}", "running", "suspended", "resumed"]
    assert re.fullmatch(r"snapshot \S+ ready \(\d+ bytes at container:///snapshots/default/\S+\.tar\.gz\)", steps[4])
    assert steps[5:] == ["restored", "kubeconfig for https://example.default.vcluster.local:443:", "deleted"]
    assert "phase SUSPENDED" in result.stdout
    assert "current-context:" in result.stdout
