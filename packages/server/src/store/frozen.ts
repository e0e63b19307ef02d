import { fromBinary } from "@bufbuild/protobuf";
import { type VCluster, VClusterSchema } from "@open-vcluster/api";

/**
 * Freezes a message and everything it holds, so that an object handed to many readers cannot
 * be changed by one of them (a write to it throws). Byte arrays cannot be frozen and are left
 * as they are.
 */
export function freezeDeep<T extends object>(value: T): Readonly<T> {
  if (Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (child !== null && typeof child === "object") freezeDeep(child);
  }
  return value;
}

/**
 * Decoded vclusters by id, each kept beside the bytes it was decoded from, for the stores that
 * hold encoded rows: a peek whose row still holds the same bytes gets the same frozen object
 * back instead of decoding it again. Bounded; the least recently used entry goes first.
 */
export class DecodedVClusters {
  readonly #entries = new Map<string, { data: Uint8Array; vcluster: Readonly<VCluster> }>();
  readonly #limit: number;

  constructor(limit = 4096) {
    this.#limit = limit;
  }

  decode(id: string, data: Uint8Array): Readonly<VCluster> {
    const hit = this.#entries.get(id);
    this.#entries.delete(id);
    if (hit !== undefined && Buffer.compare(hit.data, data) === 0) {
      this.#entries.set(id, hit);
      return hit.vcluster;
    }
    const vcluster = freezeDeep(fromBinary(VClusterSchema, data));
    this.#entries.set(id, { data, vcluster });
    if (this.#entries.size > this.#limit) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    return vcluster;
  }
}

/**
 * What the database holds, frozen, by id and by name, as the one connection that writes it sees
 * it (its open transaction's writes included), for a store every write of which goes through
 * this process (SQLite). Reads remember what they found, absences included; writes record what
 * they wrote; so a read of something known needs no statement. A rollback leaves it wrong: the
 * store forgets everything then. Bounded; the oldest entries go first.
 */
export class KnownVClusters {
  // null: known to be absent.
  readonly #byId = new Map<string, Readonly<VCluster> | null>();
  readonly #idByName = new Map<string, string | null>();
  readonly #limit: number;

  constructor(limit = 4096) {
    this.#limit = limit;
  }

  /** The vcluster, null when known to be absent, undefined when not known. */
  get(key: { id: string } | { namespace: string; name: string }): Readonly<VCluster> | null | undefined {
    if ("id" in key) return this.#byId.get(key.id);
    const id = this.#idByName.get(nameKey(key.namespace, key.name));
    if (id === null || id === undefined) return id;
    const held = this.#byId.get(id);
    return held?.namespace === key.namespace && held.name === key.name ? held : undefined;
  }

  /** What a read of `key` found (undefined: nothing). */
  found(key: { id: string } | { namespace: string; name: string }, vcluster: Readonly<VCluster> | undefined): void {
    if (vcluster !== undefined) this.#set(vcluster.id, vcluster);
    else if ("id" in key) this.#set(key.id, null);
    else this.#name(nameKey(key.namespace, key.name), null);
  }

  /** A write of vcluster `id`: it held `before` and now holds `after` (undefined: absent). */
  wrote(id: string, before: Readonly<VCluster> | undefined, after: Readonly<VCluster> | undefined): void {
    if (before !== undefined) this.#name(nameKey(before.namespace, before.name), null);
    this.#set(id, after ?? null);
  }

  clear(): void {
    this.#byId.clear();
    this.#idByName.clear();
  }

  #set(id: string, vcluster: Readonly<VCluster> | null): void {
    this.#byId.delete(id);
    this.#byId.set(id, vcluster);
    if (vcluster !== null) this.#name(nameKey(vcluster.namespace, vcluster.name), id);
    if (this.#byId.size > this.#limit) {
      const [oldest, held] = this.#byId.entries().next().value as [string, Readonly<VCluster> | null];
      this.#byId.delete(oldest);
      // Its name would lead nowhere: a look-up by name would read it again anyway.
      if (held !== null) this.#idByName.delete(nameKey(held.namespace, held.name));
    }
  }

  #name(name: string, id: string | null): void {
    this.#idByName.delete(name);
    this.#idByName.set(name, id);
    if (this.#idByName.size > 2 * this.#limit) {
      const oldest = this.#idByName.keys().next();
      if (!oldest.done) this.#idByName.delete(oldest.value);
    }
  }
}

const nameKey = (namespace: string, name: string) => `${namespace}/${name}`;
