import { type VCluster, WatchEventType } from "@open-vcluster/api";
import { abortReason, type Clock, type Random, systemClock } from "../time/clock.js";
import type { ConnectionStatus } from "../watch/watch-types.js";
import { type CacheEvent, VClusterCacheStore } from "./cache-store.js";
import { EventQueue } from "./event-queue.js";
import { Reflector, type ReflectorSource } from "./reflector.js";

export interface InformerHandlers {
  onAdd?(vcluster: VCluster): void;
  onUpdate?(vcluster: VCluster, previous: VCluster): void;
  onDelete?(vcluster: VCluster): void;
}

export interface InformerOptions {
  /** Stops the informer. */
  signal?: AbortSignal;
  /** Backoff between failed lists. Default 800 ms → 30 s (as the watch). */
  listBackoff?: { initialMs?: number; maxMs?: number };
  onStatus?: (status: ConnectionStatus) => void;
  clock?: Clock;
  random?: Random;
}

/**
 * A local, always-converging view of the server's vclusters (client-go's shared informer in
 * small): read it with `get` / `list`, react with handlers or async iteration. Start it with
 * `start()`; `hasSynced()` tells when the first full list has landed.
 */
export class VClusterInformer implements AsyncIterable<CacheEvent> {
  private readonly store = new VClusterCacheStore();
  private readonly handlers = new Set<(event: CacheEvent) => void>();
  private readonly queues = new Set<EventQueue<CacheEvent>>();
  private readonly stopper = new AbortController();
  private synced = false;
  private syncWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private running: Promise<void> | undefined;
  private failure: { error: unknown } | undefined;
  private currentStatus: ConnectionStatus = "connecting";

  constructor(
    private readonly source: ReflectorSource,
    private readonly options: InformerOptions = {},
  ) {}

  /** Starts listing and watching (idempotent). The promise settles when the informer stops. */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  stop(): void {
    this.stopper.abort();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has been applied; rejects if the informer fails first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure.error);
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.syncWaiters.push(waiter);
      signal?.addEventListener("abort", () => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
        reject(abortReason(signal));
      });
    });
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  get(namespace: string, name: string): VCluster | undefined {
    return this.store.get(namespace, name);
  }

  getById(id: string): VCluster | undefined {
    return this.store.getById(id);
  }

  list(): VCluster[] {
    return this.store.list();
  }

  /** Registers handlers (or one function for every change); returns a function removing them. */
  on(handlers: InformerHandlers | ((event: CacheEvent) => void)): () => void {
    const handler = typeof handlers === "function" ? handlers : dispatchTo(handlers);
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Every change from now on; ends when the informer stops, rejects when it fails. */
  [Symbol.asyncIterator](): AsyncIterator<CacheEvent> {
    const queue: EventQueue<CacheEvent> = new EventQueue(() => this.queues.delete(queue));
    if (this.failure || this.stopper.signal.aborted) queue.end(this.failure);
    else this.queues.add(queue);
    return queue;
  }

  private async run(): Promise<void> {
    const signal = this.options.signal
      ? AbortSignal.any([this.options.signal, this.stopper.signal])
      : this.stopper.signal;
    const reflector = new Reflector(this.statusTrackingSource(), this.store, {
      clock: this.options.clock ?? systemClock,
      random: this.options.random ?? Math.random,
      backoff: {
        initialMs: this.options.listBackoff?.initialMs ?? 800,
        maxMs: this.options.listBackoff?.maxMs ?? 30_000,
      },
      onChanges: (changes) => this.deliver(changes),
      onSynced: () => this.markSynced(),
    });
    try {
      await reflector.run(signal);
    } catch (error) {
      if (!signal.aborted) {
        this.fail(error);
        throw error;
      }
    } finally {
      this.setStatus("closed");
      for (const queue of this.queues) queue.end(this.failure);
      this.queues.clear();
    }
  }

  private statusTrackingSource(): ReflectorSource {
    return {
      listPages: (signal) => this.source.listPages(signal),
      watch: (version, options) =>
        this.source.watch(version, {
          ...options,
          onStatus: (status, error) => {
            options.onStatus?.(status, error);
            // One watch closing is not the informer closing: the reflector lists again.
            if (status !== "closed") this.setStatus(status);
          },
        }),
    };
  }

  private deliver(changes: CacheEvent[]): void {
    for (const change of changes) {
      for (const handler of this.handlers) handler(change);
      for (const queue of this.queues) queue.push(change);
    }
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const waiter of this.syncWaiters) waiter.resolve();
    this.syncWaiters = [];
  }

  private fail(error: unknown): void {
    this.failure = { error };
    for (const waiter of this.syncWaiters) waiter.reject(error);
    this.syncWaiters = [];
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.currentStatus === status) return;
    this.currentStatus = status;
    this.options.onStatus?.(status);
  }
}

function dispatchTo(handlers: InformerHandlers): (event: CacheEvent) => void {
  return (event) => {
    if (event.type === WatchEventType.ADDED) handlers.onAdd?.(event.vcluster);
    else if (event.type === WatchEventType.MODIFIED)
      handlers.onUpdate?.(event.vcluster, event.previous ?? event.vcluster);
    else handlers.onDelete?.(event.vcluster);
  };
}
