import { type VCluster, WatchEventType } from "@open-vcluster/api";
import type { StoredEvent } from "../store/index.js";

/**
 * The type an event goes out as, given the ids the client holds (`held`, updated here), or
 * undefined when it does not go out. `knowsClientState` is true after an initial listing (the
 * client holds exactly what was sent), false on a replay (the client's cache is unknown, so
 * event types pass through unchanged). An object that stops matching goes out once as DELETED.
 */
export function outgoingType(
  e: StoredEvent,
  matches: (v: VCluster) => boolean,
  held: Set<string>,
  knowsClientState: boolean,
): WatchEventType | undefined {
  const id = e.vcluster.id;
  if (matches(e.vcluster)) {
    if (e.type === WatchEventType.DELETED) {
      held.delete(id);
      return WatchEventType.DELETED;
    }
    const type =
      knowsClientState && e.type === WatchEventType.MODIFIED && !held.has(id) ? WatchEventType.ADDED : e.type;
    held.add(id);
    return type;
  }
  return held.delete(id) ? WatchEventType.DELETED : undefined;
}

/**
 * What the watches that started from a listing with the same filters share. Once such a watch has
 * its listing and what was committed meanwhile, its client holds exactly what matches the filters
 * at the newest version, whatever version it listed at: one set of held ids serves all of them,
 * and an event's outgoing type (which depends on that set alone) is worked out once for all.
 */
export class SharedHeld {
  members = 0;
  #last: StoredEvent | undefined;
  #lastType: WatchEventType | undefined;

  constructor(
    private readonly held: Set<string>,
    /** The newest event the set reflects. */
    public version: number,
  ) {}

  /** The event's outgoing type; the members offered the same event in turn get the one answer. */
  outgoingType(e: StoredEvent, matches: (v: VCluster) => boolean): WatchEventType | undefined {
    if (e !== this.#last) {
      this.#lastType = outgoingType(e, matches, this.held, true);
      this.#last = e;
      this.version = e.resourceVersion;
    }
    return this.#lastType;
  }
}

/** Shared sets by filters, per hub (one per server). */
export class SharedHeldSets {
  readonly #byKey = new Map<string, SharedHeld>();

  /**
   * A set for a watch whose own `held` is exact at `version`: the one its filters share when that
   * one is at the same version (its members saw the same events), else a new one made of `held`.
   * Joining one that exists empties `held`, which the watch no longer needs.
   */
  join(key: string, held: Set<string>, version: number): SharedHeld {
    const existing = this.#byKey.get(key);
    if (existing !== undefined && existing.members > 0 && existing.version === version) {
      existing.members += 1;
      held.clear();
      return existing;
    }
    const created = new SharedHeld(held, version);
    created.members = 1;
    this.#byKey.set(key, created);
    return created;
  }

  leave(key: string, shared: SharedHeld): void {
    shared.members -= 1;
    if (shared.members === 0 && this.#byKey.get(key) === shared) this.#byKey.delete(key);
  }
}
