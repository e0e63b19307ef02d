import { type VCluster, WatchEventType } from "@open-vcluster/api";
import { compareResourceVersions, resourceVersionOf } from "../watch/resource-version.js";
import type { WatchEvent } from "../watch/watch-types.js";

/** A change to the cache, as consumers see it. */
export interface CacheEvent {
  type: WatchEventType.ADDED | WatchEventType.MODIFIED | WatchEventType.DELETED;
  vcluster: VCluster;
  /** The cached object this change replaced (MODIFIED, DELETED). */
  previous?: VCluster;
}

function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/**
 * The informer's local copy of the server's vclusters, keyed by id (ids are never reused) with
 * a namespace/name index. It applies only changes newer than what it holds, which lets listed
 * state and replayed events be merged in any overlap without going backwards.
 */
export class VClusterCacheStore {
  private readonly byId = new Map<string, VCluster>();
  private readonly idByKey = new Map<string, string>();

  get size(): number {
    return this.byId.size;
  }

  get(namespace: string, name: string): VCluster | undefined {
    const id = this.idByKey.get(keyOf(namespace, name));
    return id === undefined ? undefined : this.byId.get(id);
  }

  getById(id: string): VCluster | undefined {
    return this.byId.get(id);
  }

  list(): VCluster[] {
    return [...this.byId.values()];
  }

  ids(): IterableIterator<string> {
    return this.byId.keys();
  }

  /** Applies one watch event; returns the resulting change, or undefined when it was stale. */
  apply(event: WatchEvent): CacheEvent | undefined {
    const incoming = event.vcluster;
    const previous = this.byId.get(incoming.id);
    if (previous && compareResourceVersions(resourceVersionOf(previous), event.resourceVersion) >= 0) return undefined;
    if (event.type === WatchEventType.DELETED) {
      if (!previous) return undefined;
      this.remove(previous);
      return { type: WatchEventType.DELETED, vcluster: incoming, previous };
    }
    this.put(incoming, previous);
    return previous
      ? { type: WatchEventType.MODIFIED, vcluster: incoming, previous }
      : { type: WatchEventType.ADDED, vcluster: incoming };
  }

  /**
   * Replaces the whole content with a fresh list and returns the changes a consumer of events
   * missed: DELETED for what is gone, ADDED for what is new, MODIFIED for what changed.
   */
  replace(items: VCluster[]): CacheEvent[] {
    const changes: CacheEvent[] = [];
    const fresh = new Set<string>();
    for (const item of items) {
      fresh.add(item.id);
      const previous = this.byId.get(item.id);
      if (!previous) {
        this.put(item, undefined);
        changes.push({ type: WatchEventType.ADDED, vcluster: item });
      } else if (resourceVersionOf(previous) !== resourceVersionOf(item)) {
        this.put(item, previous);
        changes.push({ type: WatchEventType.MODIFIED, vcluster: item, previous });
      }
    }
    for (const [id, previous] of [...this.byId]) {
      if (fresh.has(id)) continue;
      this.remove(previous);
      changes.push({ type: WatchEventType.DELETED, vcluster: previous, previous });
    }
    return changes;
  }

  /** Removes every object whose id is not in `keep`; returns the DELETED changes. */
  retainOnly(keep: ReadonlySet<string>): CacheEvent[] {
    const changes: CacheEvent[] = [];
    for (const [id, previous] of [...this.byId]) {
      if (keep.has(id)) continue;
      this.remove(previous);
      changes.push({ type: WatchEventType.DELETED, vcluster: previous, previous });
    }
    return changes;
  }

  private put(item: VCluster, previous: VCluster | undefined): void {
    if (previous && (previous.namespace !== item.namespace || previous.name !== item.name)) this.remove(previous);
    this.byId.set(item.id, item);
    this.idByKey.set(keyOf(item.namespace, item.name), item.id);
  }

  private remove(item: VCluster): void {
    this.byId.delete(item.id);
    const key = keyOf(item.namespace, item.name);
    if (this.idByKey.get(key) === item.id) this.idByKey.delete(key);
  }
}
