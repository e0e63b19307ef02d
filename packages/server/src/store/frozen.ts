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
 * Committed vclusters, frozen, by id and by name, for a store every write of which goes through
 * this process (SQLite): a write forgets what it touches before it happens, and only a read
 * made while no transaction is open fills it, so what it holds is always what is committed.
 * Bounded; the least recently used entry goes first.
 */
export class CommittedVClusters {
  readonly #byId = new Map<string, Readonly<VCluster>>();
  readonly #idByName = new Map<string, string>();
  readonly #limit: number;

  constructor(limit = 4096) {
    this.#limit = limit;
  }

  get(key: { id: string } | { namespace: string; name: string }): Readonly<VCluster> | undefined {
    const id = "id" in key ? key.id : this.#idByName.get(nameKey(key.namespace, key.name));
    if (id === undefined) return undefined;
    const vcluster = this.#byId.get(id);
    if (vcluster !== undefined) {
      this.#byId.delete(id);
      this.#byId.set(id, vcluster);
    }
    return vcluster;
  }

  remember(vcluster: Readonly<VCluster>): void {
    this.#byId.set(vcluster.id, vcluster);
    this.#idByName.set(nameKey(vcluster.namespace, vcluster.name), vcluster.id);
    if (this.#byId.size > this.#limit) {
      const oldest = this.#byId.keys().next();
      if (!oldest.done) this.forget(oldest.value);
    }
  }

  /** Before vcluster `id` is written (possibly under a new name, `as`) or deleted. */
  forget(id: string, as?: { namespace: string; name: string }): void {
    const held = this.#byId.get(id);
    if (held !== undefined) this.#idByName.delete(nameKey(held.namespace, held.name));
    this.#byId.delete(id);
    if (as !== undefined) this.#idByName.delete(nameKey(as.namespace, as.name));
  }
}

const nameKey = (namespace: string, name: string) => `${namespace}/${name}`;
