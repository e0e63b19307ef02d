import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import {
  Annotations,
  ErrorDetailSchema,
  Phase,
  type VCluster,
  VClusterSchema,
  VClusterService,
  WatchEventType,
  type WatchVClusterResponse,
  WatchVClusterResponseSchema,
} from "@open-vcluster/api";

/** A detail-carrying error shaped like the reference server's. */
export function apiError(code: Code, reason: string, message: string, retryDelayMs?: number): ConnectError {
  const detail = create(ErrorDetailSchema, { reason });
  if (retryDelayMs !== undefined) detail.retryDelay = durationFromMs(retryDelayMs);
  return new ConnectError(message, code, undefined, [{ desc: ErrorDetailSchema, value: detail }]);
}

interface LoggedEvent {
  version: number;
  type: WatchEventType;
  vcluster: VCluster;
}

/**
 * A small in-memory VClusterService for unit tests: versions, an event log with a movable
 * history horizon, watch streams that can be broken, heartbeats on demand.
 */
export class FakeVClusterBackend {
  version = 0;
  readonly items = new Map<string, VCluster>();
  private readonly log: LoggedEvent[] = [];
  private oldestRetained = 0;
  private wake = new Set<() => void>();
  private breakGeneration = 0;
  private heartbeats = 0;
  openedStreams = 0;
  watchRequests: string[] = [];
  /** Errors the next watch opens fail with (consumed in order). */
  watchOpenFailures: ConnectError[] = [];
  private nextId = 1;
  /** Handlers of the methods the fake does not implement itself. */
  extraHandlers: Partial<ServiceImpl<typeof VClusterService>> = {};

  put(namespace: string, name: string, phase: Phase, extra: Partial<VCluster> = {}): VCluster {
    const existing = [...this.items.values()].find((v) => v.namespace === namespace && v.name === name);
    const version = ++this.version;
    const vcluster = create(VClusterSchema, {
      id: existing?.id ?? `id-${this.nextId++}`,
      namespace,
      name,
      status: { phase, reason: extra.status?.reason ?? "", message: extra.status?.message ?? "" },
      labels: extra.labels ?? existing?.labels ?? {},
      annotations: { [Annotations.resourceVersion]: String(version) },
    });
    this.items.set(vcluster.id, vcluster);
    this.record({ version, type: existing ? WatchEventType.MODIFIED : WatchEventType.ADDED, vcluster });
    return vcluster;
  }

  remove(namespace: string, name: string): void {
    const existing = [...this.items.values()].find((v) => v.namespace === namespace && v.name === name);
    if (!existing) return;
    this.items.delete(existing.id);
    const version = ++this.version;
    const final = create(VClusterSchema, {
      ...existing,
      annotations: { ...existing.annotations, [Annotations.resourceVersion]: String(version) },
    });
    this.record({ version, type: WatchEventType.DELETED, vcluster: final });
  }

  /** Forgets all history: every watch from a version before now gets RESOURCE_VERSION_EXPIRED. */
  expireHistory(): void {
    this.oldestRetained = this.version;
    this.log.length = 0;
  }

  /** Ends every open watch stream with Unavailable, as a dropped connection would. */
  breakStreams(): void {
    this.breakGeneration++;
    this.notify();
  }

  heartbeat(): void {
    this.heartbeats++;
    this.notify();
  }

  sorted(): VCluster[] {
    return [...this.items.values()].sort((a, b) =>
      `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
    );
  }

  routes = (router: ConnectRouter): void => {
    router.service(VClusterService, {
      ...this.extraHandlers,
      getVCluster: (req) => {
        const namespace = req.namespace || "default";
        const found = [...this.items.values()].find((v) => v.namespace === namespace && v.name === req.name);
        if (!found) throw apiError(Code.NotFound, "NOT_FOUND", `vcluster ${namespace}/${req.name} not found`);
        return { vcluster: found };
      },
      listVClusters: (req) => {
        const all = this.sorted().filter((v) => !req.namespace || v.namespace === req.namespace);
        const size = req.pageSize || 50;
        const start = req.pageToken ? Number(req.pageToken) : 0;
        const page = all.slice(start, start + size);
        const next = start + size < all.length ? String(start + size) : "";
        return { vclusters: page, nextPageToken: next, totalCount: all.length };
      },
      watchVCluster: (req, ctx) => this.watch(req.resourceVersion, req.name, req.namespace, ctx.signal),
    });
  };

  private async *watch(
    resourceVersion: string,
    name: string,
    namespace: string,
    signal: AbortSignal,
  ): AsyncGenerator<WatchVClusterResponse> {
    this.openedStreams++;
    this.watchRequests.push(resourceVersion);
    const failure = this.watchOpenFailures.shift();
    if (failure) throw failure;
    const matches = (v: VCluster) => (!name || v.name === name) && (!namespace || v.namespace === namespace);
    const generation = this.breakGeneration;
    let heartbeatsSeen = this.heartbeats;
    let from: number;
    if (resourceVersion === "") {
      for (const vcluster of this.sorted().filter(matches)) {
        yield create(WatchVClusterResponseSchema, { type: WatchEventType.ADDED, vcluster });
      }
      from = this.version;
    } else {
      from = Number(resourceVersion);
      if (from < this.oldestRetained) {
        throw apiError(Code.OutOfRange, "RESOURCE_VERSION_EXPIRED", `resource version ${from} is too old`);
      }
    }
    for (;;) {
      for (const event of this.log.filter((e) => e.version > from)) {
        from = event.version;
        if (matches(event.vcluster)) yield create(WatchVClusterResponseSchema, event);
      }
      if (this.heartbeats !== heartbeatsSeen) {
        heartbeatsSeen = this.heartbeats;
        yield create(WatchVClusterResponseSchema, {
          type: WatchEventType.UNSPECIFIED,
          vcluster: { annotations: { [Annotations.resourceVersion]: String(this.version) } },
        });
      }
      if (this.breakGeneration !== generation) throw new ConnectError("connection reset", Code.Unavailable);
      if (signal.aborted) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          this.wake.delete(done);
          signal.removeEventListener("abort", done);
          resolve();
        };
        this.wake.add(done);
        signal.addEventListener("abort", done);
      });
    }
  }

  private record(event: LoggedEvent): void {
    this.log.push(event);
    this.notify();
  }

  private notify(): void {
    for (const wake of [...this.wake]) wake();
  }
}

export { Phase };
