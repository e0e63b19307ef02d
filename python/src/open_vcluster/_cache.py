"""The informer's local copy of the server's vclusters and the list-then-watch bookkeeping.

Free of I/O: the sync and the async informer drive the same :class:`Reflection`.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ._watch import WatchEvent, compare_resource_versions, resource_version_of
from .api import VCluster, WatchEventType


@dataclass(frozen=True)
class CacheEvent:
    """A change to the cache, as consumers see it."""

    type: WatchEventType
    """ADDED, MODIFIED or DELETED."""
    vcluster: VCluster
    previous: VCluster | None = None
    """The cached object this change replaced (MODIFIED, DELETED)."""


class CacheStore:
    """Vclusters keyed by id (ids are never reused) with a namespace/name index.

    Applies only changes newer than what it holds, so listed state and replayed events merge
    in any overlap without going backwards.
    """

    def __init__(self) -> None:
        self._by_id: dict[str, VCluster] = {}
        self._id_by_key: dict[tuple[str, str], str] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, namespace: str, name: str) -> VCluster | None:
        found = self._id_by_key.get((namespace, name))
        return None if found is None else self._by_id.get(found)

    def get_by_id(self, vcluster_id: str) -> VCluster | None:
        return self._by_id.get(vcluster_id)

    def list(self) -> list[VCluster]:
        return list(self._by_id.values())

    def apply(self, event: WatchEvent) -> CacheEvent | None:
        """Applies one watch event; the resulting change, or None when it was stale."""
        incoming = event.vcluster
        previous = self._by_id.get(incoming.id)
        if (
            previous is not None
            and compare_resource_versions(resource_version_of(previous), event.resource_version) >= 0
        ):
            return None
        if event.type == WatchEventType.DELETED:
            if previous is None:
                return None
            self._remove(previous)
            return CacheEvent(WatchEventType.DELETED, incoming, previous)
        self._put(incoming, previous)
        if previous is None:
            return CacheEvent(WatchEventType.ADDED, incoming)
        return CacheEvent(WatchEventType.MODIFIED, incoming, previous)

    def replace(self, items: Iterable[VCluster]) -> builtins.list[CacheEvent]:
        """Replaces the content with a fresh list; returns the changes a consumer missed."""
        changes: builtins.list[CacheEvent] = []
        fresh: set[str] = set()
        for item in items:
            fresh.add(item.id)
            previous = self._by_id.get(item.id)
            if previous is None:
                self._put(item, None)
                changes.append(CacheEvent(WatchEventType.ADDED, item))
            elif resource_version_of(previous) != resource_version_of(item):
                self._put(item, previous)
                changes.append(CacheEvent(WatchEventType.MODIFIED, item, previous))
        changes.extend(self.retain_only(fresh))
        return changes

    def retain_only(self, keep: set[str]) -> builtins.list[CacheEvent]:
        """Removes every object whose id is not in ``keep``; returns the DELETED changes."""
        changes: builtins.list[CacheEvent] = []
        for vcluster_id, previous in list(self._by_id.items()):
            if vcluster_id not in keep:
                self._remove(previous)
                changes.append(CacheEvent(WatchEventType.DELETED, previous, previous))
        return changes

    def _put(self, item: VCluster, previous: VCluster | None) -> None:
        if previous is not None and (previous.namespace, previous.name) != (item.namespace, item.name):
            self._remove(previous)
        self._by_id[item.id] = item
        self._id_by_key[(item.namespace, item.name)] = item.id

    def _remove(self, item: VCluster) -> None:
        self._by_id.pop(item.id, None)
        key = (item.namespace, item.name)
        if self._id_by_key.get(key) == item.id:
            del self._id_by_key[key]


def newest_version(items: Iterable[VCluster]) -> str:
    newest = ""
    for item in items:
        version = resource_version_of(item)
        if compare_resource_versions(version, newest) > 0:
            newest = version
    return newest


class Reflection:
    """One list-then-watch round of an informer.

    The watch starts from the version the server read the first page at: every change later
    pages may not show has a greater version and is replayed, and the store drops what it
    already has. If that version has already left the server's history, the next round
    watches from ``""`` instead (the full state as ADDED, then changes) and, at its first
    heartbeat, drops every cached object the stream did not mention.
    """

    def __init__(self, store: CacheStore, full_resync: bool) -> None:
        self._store = store
        self.full_resync = full_resync
        self._resyncing = full_resync
        self._mentioned: set[str] = set()
        self._first_page_version: str | None = None
        self._listed: list[VCluster] = []
        self.delivered = False
        self.reconnected = False

    def add_page(self, items: list[VCluster], resource_version: str | None) -> None:
        if self._first_page_version is None:
            # Servers that send no read version: the newest object on the first page.
            self._first_page_version = resource_version or (newest_version(items) if items else "")
        self._listed.extend(items)

    def finish_list(self) -> tuple[list[CacheEvent], str]:
        """Applies the list; returns the changes and the version to watch from."""
        changes = self._store.replace(self._listed)
        self._listed = []
        return changes, self._first_page_version or ""

    def on_event(self, event: WatchEvent) -> CacheEvent | None:
        self.delivered = True
        if self._resyncing:
            self._mentioned.add(event.vcluster.id)
        return self._store.apply(event)

    def on_bookmark(self) -> list[CacheEvent] | None:
        """At the first heartbeat of a full resync: the DELETED changes, and the cache is synced."""
        if not self._resyncing:
            return None
        self._resyncing = False
        return self._store.retain_only(self._mentioned)

    def after_expired(self) -> Literal["relist", "full-resync"]:
        """An expired version straight after a list: the history is shorter than the list's age."""
        if self.delivered or self.reconnected or self.full_resync:
            return "relist"
        return "full-resync"
