"""Starts the built reference server (packages/server/dist/bin.js) for integration tests."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SERVER_BIN = REPO / "packages" / "server" / "dist" / "bin.js"
FAULT_SERVER = Path(__file__).with_name("fault_server.mjs")
_LISTENING = re.compile(r"listening on (http://\S+)")
START_TIMEOUT = 180.0
"""Seconds a process may take to print its URL: Node can take a minute to start on a loaded machine."""
UNAVAILABLE = 14
"""The numeric RPC code the server's fault injection takes."""


def node() -> str:
    """The pinned Node the package's test script runs under, else the one on PATH."""
    found = os.environ.get("OPEN_VCLUSTER_NODE") or shutil.which("node")
    if not found:
        raise RuntimeError("no Node.js found: run the tests through `pnpm --filter @open-vcluster/python test`")
    return found


class ServerProcess:
    """One server process; :meth:`start` waits for its "listening on" line and reads the URL."""

    def __init__(self, args: Sequence[str], script: Path = SERVER_BIN) -> None:
        if not script.exists():
            raise RuntimeError(f"{script} is missing: build the server first (turbo runs its build before these tests)")
        self._command = [node(), str(script), *args]
        self._process: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []
        self._changed = threading.Condition()

    def start(self) -> ServerProcess:
        self._process = subprocess.Popen(
            self._command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
        )
        found = threading.Event()

        def pump() -> None:
            assert self._process is not None
            assert self._process.stdout is not None
            for line in self._process.stdout:
                with self._changed:
                    self.output.append(line)
                    self._changed.notify_all()
                match = _LISTENING.search(line)
                if match and not self.url:
                    self.url = match.group(1)
                    found.set()
            found.set()

        threading.Thread(target=pump, daemon=True).start()
        if not found.wait(START_TIMEOUT) or not self.url:
            self.stop()
            raise RuntimeError(f"the server did not start: {''.join(self.output)}")
        return self

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def wait_for_line(self, text: str, count: int, timeout: float = 30.0) -> None:
        """Waits until ``count`` output lines equal ``text``."""
        with self._changed:
            if not self._changed.wait_for(lambda: sum(line.strip() == text for line in self.output) >= count, timeout):
                raise TimeoutError(f"the server did not print {text!r} {count} times: {''.join(self.output)}")

    def send(self, line: str) -> None:
        assert self._process is not None
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def stop(self) -> None:
        """Graceful shutdown (SIGTERM), then a kill if it does not end within 30 s."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def start_server(*extra: str, time_scale: str = "0.05", store: str = "memory") -> ServerProcess:
    """The built bin on 127.0.0.1 port 0 (or the ``--port`` in ``extra``)."""
    args = ["--host", "127.0.0.1", "--store", store, "--time-scale", time_scale, "--heartbeat-interval", "500"]
    if "--port" not in extra:
        args += ["--port", "0"]
    return ServerProcess([*args, *extra]).start()


class FaultServer(ServerProcess):
    """The server in-process with its RPC fault injection reachable through stdin."""

    def __init__(self, time_scale: str = "0") -> None:
        super().__init__([time_scale], FAULT_SERVER)
        self._armed = 0

    def inject_rpc(self, procedure: str, code: int, when: str, count: int = 1) -> None:
        """The next ``count`` calls fail with ``code``; "after": the handler runs, the response is lost."""
        self._arm({"rpc": {"procedure": procedure, "code": code, "when": when, "count": count}})

    def inject_provider(self, kind: str, mode: str, count: int = 1, delay_ms: int = 60_000) -> None:
        """The next ``count`` provider operations of ``kind`` fail or are slow."""
        self._arm({"provider": {"kind": kind, "mode": mode, "count": count, "delayMs": delay_ms}})

    def clear_faults(self) -> None:
        """Disarms every fault still armed."""
        self._arm({"clear": True})

    def _arm(self, fault: dict[str, object]) -> None:
        self._armed += 1
        self.send(json.dumps(fault))
        self.wait_for_line("armed", self._armed)

    def stop(self) -> None:
        if self._process is not None and self._process.stdin is not None and self._process.poll() is None:
            self._process.stdin.close()
            try:
                self._process.wait(30)
                return
            except subprocess.TimeoutExpired:
                pass
        super().stop()
