"""Paging 1,000 vclusters while others are created and deleted: nothing skipped or repeated."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from open_vcluster import AsyncClient, Client, Protocol
from open_vcluster.api import CreateVClusterRequest, DeleteVClusterRequest, ListVClustersRequest
from open_vcluster.errors import NotFoundError
from tests.support.server import ServerProcess, start_server

STABLE = 1000


@pytest.fixture(scope="module")
def populated() -> Iterator[ServerProcess]:
    server = start_server(time_scale="0")
    with Client(server.url) as client, ThreadPoolExecutor(8) as pool:
        names = [f"stable-{i:04d}" for i in range(STABLE)]
        list(pool.map(lambda n: client.create_vcluster(CreateVClusterRequest(name=n, labels={"set": "stable"})), names))
    yield server
    server.stop()


class Churn:
    """Creates and deletes other vclusters in a background thread until stopped."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._stop = threading.Event()
        self.changes = 0
        self._lapped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Churn:
        self._thread.start()
        # The listing starts only once the churn is under way.
        if not self._lapped.wait(60):
            raise TimeoutError("the churn made no change within 60 s")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        with Client(self._url) as client:
            i = 0
            while not self._stop.is_set():
                name = f"churn-{i % 40:02d}"
                with contextlib.suppress(Exception):
                    client.create_vcluster(CreateVClusterRequest(name=name, labels={"set": "churn"}))
                with contextlib.suppress(NotFoundError):
                    client.delete_vcluster(DeleteVClusterRequest(name=f"churn-{(i + 20) % 40:02d}", force=True))
                self.changes += 2
                self._lapped.set()
                i += 1


def check(names: list[str]) -> None:
    stable = Counter(n for n in names if n.startswith("stable-"))
    assert len(stable) == STABLE, f"skipped {STABLE - len(stable)} stable vclusters"
    assert max(stable.values()) == 1, f"repeated: {[n for n, c in stable.items() if c > 1][:5]}"


def test_sync_paging_under_churn(populated: ServerProcess, protocol: Protocol) -> None:
    with Client(populated.url, protocol=protocol) as client, Churn(populated.url) as churn:
        pages = list(client.paginate_vclusters(ListVClustersRequest(page_size=37)).pages())
        assert churn.changes > 0
    check([v.name for page in pages for v in page.items])
    assert len(pages) > STABLE // 37
    assert pages[0].resource_version
    assert pages[-1].next_page_token == ""


async def test_async_paging_under_churn(populated: ServerProcess, protocol: Protocol) -> None:
    async with AsyncClient(populated.url, protocol=protocol) as client:
        with Churn(populated.url) as churn:
            names = [v.name async for v in client.paginate_vclusters(ListVClustersRequest(page_size=50))]
            assert churn.changes > 0
    check(names)


def test_resume_from_a_page_token(populated: ServerProcess) -> None:
    with Client(populated.url) as client:
        request = ListVClustersRequest(page_size=100, label_selector="set=stable")
        first = next(iter(client.paginate_vclusters(request).pages()))
        rest = client.paginate_vclusters(request, page_token=first.next_page_token).to_list(limit=float("inf"))
    check([v.name for v in first.items] + [v.name for v in rest])


def test_to_list_stops_fetching_at_the_limit(populated: ServerProcess) -> None:
    with Client(populated.url) as client:
        got = client.paginate_vclusters(ListVClustersRequest(page_size=10)).to_list(limit=25)
    assert len(got) == 25


async def test_async_to_list(populated: ServerProcess) -> None:
    async with AsyncClient(populated.url) as client:
        got = await client.paginate_vclusters(ListVClustersRequest(label_selector="set=stable")).to_list(limit=120)
    assert len(got) == 120
