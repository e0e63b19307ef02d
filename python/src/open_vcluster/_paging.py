"""Lazy pagination over List calls: items, whole pages (``.pages()``) and bounded collection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from .errors import RepeatedPageTokenError

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a List call."""

    items: list[T]
    next_page_token: str
    """Token of the next page; ``""`` on the last page. Store it to resume later."""
    total_count: int
    """How many items match the query over all pages, as reported with this page."""
    resource_version: str | None = None
    """The resource version the server read this page at, when it says (ListVClusters does)."""


class _TokenTrail:
    """Remembers every token followed, so a server handing one out twice ends the walk."""

    def __init__(self, first: str) -> None:
        self.token = first
        self._seen = {first}

    def advance(self, page: Page[T]) -> bool:
        """Moves to the page's next token; False on the last page."""
        # An empty page with a token is legal (everything on it was filtered out): keep going.
        if page.next_page_token == "":
            return False
        if page.next_page_token in self._seen:
            raise RepeatedPageTokenError(page.next_page_token)
        self._seen.add(page.next_page_token)
        self.token = page.next_page_token
        return True


def _check_limit(limit: float) -> None:
    if not limit >= 0:
        raise ValueError("to_list needs limit >= 0: the most items to collect (math.inf collects all)")


class Paginator(Generic[T]):
    """Iterates every item of a List call, fetching pages as needed.

    Iterate it for items, use :meth:`pages` for whole pages (with their tokens, for
    checkpoints), or :meth:`to_list` to collect a bounded number.
    """

    def __init__(self, fetch_page: Callable[[str], Page[T]], page_token: str = "") -> None:
        self._fetch_page = fetch_page
        self._page_token = page_token

    def pages(self) -> Iterator[Page[T]]:
        """Every page in order, starting at the given token."""
        trail = _TokenTrail(self._page_token)
        while True:
            page = self._fetch_page(trail.token)
            yield page
            if not trail.advance(page):
                return

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items

    def to_list(self, *, limit: float) -> list[T]:
        """Collects at most ``limit`` items (required: collecting a huge list should be a choice)."""
        _check_limit(limit)
        items: list[T] = []
        if limit == 0:
            return items
        for item in self:
            items.append(item)
            if len(items) >= limit:
                break
        return items


class AsyncPaginator(Generic[T]):
    """The async form of :class:`Paginator`: ``async for`` items, ``.pages()``, ``await .to_list()``."""

    def __init__(self, fetch_page: Callable[[str], Awaitable[Page[T]]], page_token: str = "") -> None:
        self._fetch_page = fetch_page
        self._page_token = page_token

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Every page in order, starting at the given token."""
        trail = _TokenTrail(self._page_token)
        while True:
            page = await self._fetch_page(trail.token)
            yield page
            if not trail.advance(page):
                return

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def to_list(self, *, limit: float) -> list[T]:
        """Collects at most ``limit`` items (required: collecting a huge list should be a choice)."""
        _check_limit(limit)
        items: list[T] = []
        if limit == 0:
            return items
        async for item in self:
            items.append(item)
            if len(items) >= limit:
                break
        return items
