import { create } from "@bufbuild/protobuf";
import { Code, type HandlerContext } from "@connectrpc/connect";
import {
  Annotations,
  type VCluster,
  VClusterSchema,
  WatchEventType,
  type WatchVClusterRequest,
  type WatchVClusterResponse,
  WatchVClusterResponseSchema,
} from "@open-vcluster/api";
import { canAccess, visibilityFilter } from "../auth/index.js";
import { apiError, invalidField } from "../errors.js";
import { withReadyMessages } from "../http/ready-messages.js";
import { HistoryExpiredError, type StoredEvent, type VClusterFilter } from "../store/index.js";
import { invalidArgument, validateWatchVCluster } from "../validation/index.js";
import { principalOf, type ServiceDeps } from "./deps.js";
import { binaryCodec, withEncodedField } from "./encoded-once.js";
import { compileSelector } from "./selector.js";
import { withoutSecrets } from "./shared.js";
import { outgoingType, type SharedHeld, SharedHeldSets } from "./shared-held.js";
import { resourceVersionExpired, type Watcher, type WatchHub } from "./watch-hub.js";

function parseVersion(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw invalidField("resource_version", "must be a decimal resource version");
  return Number(text);
}

function event(type: WatchEventType, vcluster: VCluster): WatchVClusterResponse {
  return create(WatchVClusterResponseSchema, { type, vcluster: withoutSecrets(vcluster) });
}

const VCLUSTER_FIELD = WatchVClusterResponseSchema.field.vcluster.number;

const sharedHeld = new WeakMap<WatchHub, SharedHeldSets>();

function sharedHeldOf(hub: WatchHub): SharedHeldSets {
  let sets = sharedHeld.get(hub);
  if (sets === undefined) {
    sets = new SharedHeldSets();
    sharedHeld.set(hub, sets);
  }
  return sets;
}

// The messages of one vcluster, per event type and codec (binary, JSON), made once and handed to
// every stream that sends them: a listing's rows and a commit's event alike. The transport encodes
// a message object once per codec (see http/server-streaming.ts), so N streams sending an object
// encode it once, not N times. Only frozen objects (store peeks, published events) are kept.
const messagesOf = new WeakMap<Readonly<VCluster>, (WatchVClusterResponse | undefined)[]>();
// Every watcher translates a commit's event in turn: the last object's messages are at hand.
let lastObject: Readonly<VCluster> | undefined;
let lastMessages: (WatchVClusterResponse | undefined)[] = [];

/**
 * The event message of `type` for `vcluster`. For binary streams its vcluster travels as the
 * bytes encoded once per frozen object (`encodedOnce`: an unknown field to protobuf-es, which
 * writes such fields out verbatim), so even a stream that encodes each message itself
 * (connect-node's road, e.g. a compressed stream) does not re-encode the object.
 */
function eventMessage(type: WatchEventType, vcluster: Readonly<VCluster>, binary: boolean): WatchVClusterResponse {
  if (vcluster !== lastObject) {
    let messages = messagesOf.get(vcluster);
    if (messages === undefined) {
      messages = [];
      if (Object.isFrozen(vcluster)) messagesOf.set(vcluster, messages);
    }
    lastObject = vcluster;
    lastMessages = messages;
  }
  const slot = type * 2 + (binary ? 1 : 0);
  let message = lastMessages[slot];
  if (message === undefined) {
    message = binary
      ? withEncodedField(create(WatchVClusterResponseSchema, { type }), VCLUSTER_FIELD, [withoutSecrets(vcluster)])
      : event(type, vcluster);
    lastMessages[slot] = message;
  }
  return message;
}

function heartbeat(version: number): WatchVClusterResponse {
  return create(WatchVClusterResponseSchema, {
    type: WatchEventType.UNSPECIFIED,
    vcluster: create(VClusterSchema, { annotations: { [Annotations.resourceVersion]: String(version) } }),
  });
}

/**
 * WatchVCluster: the initial state (or a replay) followed by live changes and heartbeats.
 * The watcher registers with the hub before it reads its starting point and then keeps only
 * the events after it, so nothing can fall between them (no gap, no duplicate).
 * An object that stops matching the filters (labels changed) is sent once as DELETED so that
 * caches drop it.
 *
 * Once live, the queued events can also be taken without a turn each (see ReadyMessages).
 */
export function watchVCluster(
  deps: ServiceDeps,
  req: WatchVClusterRequest,
  ctx: HandlerContext,
): AsyncIterable<WatchVClusterResponse> {
  const live: Live = {};
  return withReadyMessages(watchMessages(deps, req, ctx, live), (max) => live.watcher?.takeSome(max) ?? []);
}

/** The watcher whose queue holds the stream's next messages, once the stream is live. */
interface Live {
  watcher?: Watcher<WatchVClusterResponse>;
}

async function* watchMessages(
  deps: ServiceDeps,
  req: WatchVClusterRequest,
  ctx: HandlerContext,
  live: Live,
): AsyncGenerator<WatchVClusterResponse> {
  const violations = validateWatchVCluster(req);
  if (violations.length > 0) throw invalidArgument(violations);
  const principal = principalOf(ctx);
  const labels = compileSelector(req.labelSelector, "label_selector");
  const matches = (v: VCluster) =>
    (!req.namespace || v.namespace === req.namespace) &&
    (!req.name || v.name === req.name) &&
    (!labels || labels(v.labels)) &&
    canAccess(principal, v);

  const { store, watchHub } = deps;
  const binary = binaryCodec(ctx);
  const initial: WatchVClusterResponse[] = [];
  const listed = req.resourceVersion === "";
  // The ids the client holds once it has taken everything queued (events are translated in
  // version order as they arrive), so only events that produce output are queued. A listed
  // watch shares them with the others of the same filters once it has caught up (SharedHeld).
  const held = new Set<string>();
  let shared: SharedHeld | undefined;
  const translate = (e: StoredEvent) => {
    const type = shared ? shared.outgoingType(e, matches) : outgoingType(e, matches, held, listed);
    return type === undefined ? undefined : eventMessage(type, e.vcluster, binary);
  };
  const sharing = sharedHeldOf(watchHub);
  const filters = JSON.stringify([
    req.namespace,
    req.name,
    req.labelSelector,
    principal.admin || [principal.subject, [...principal.projects].sort()],
  ]);
  // Registered before the starting point is read: every later commit reaches the watcher.
  const watcher = watchHub.register<WatchVClusterResponse>(principal.subject);
  try {
    if (req.resourceVersion === "") {
      const visibleTo = visibilityFilter(principal);
      const filter: VClusterFilter = {
        ...(req.namespace ? { namespace: req.namespace } : {}),
        ...(req.name ? { name: req.name } : {}),
        ...(labels ? { labels } : {}),
        ...(visibleTo ? { visibleTo } : {}),
      };
      // One transaction: the listing is exactly the state at `version`.
      const version = await store.read(async (tx) => {
        let after: Parameters<typeof tx.peekVClusters>[2];
        for (;;) {
          const page = await tx.peekVClusters(filter, "name", after, 1000);
          for (const v of page.items) {
            initial.push(eventMessage(WatchEventType.ADDED, v, binary));
            held.add(v.id);
          }
          const last = page.items.at(-1);
          if (!page.hasMore || !last) break;
          after = { namespace: last.namespace, name: last.name, createTimeMs: 0, id: last.id };
        }
        return tx.currentVersion();
      });
      watcher.begin(version, translate);
      shared = sharing.join(filters, held, watcher.seenVersion);
    } else {
      const startVersion = parseVersion(req.resourceVersion);
      const newest = await store.currentVersion();
      if (startVersion > newest) {
        throw invalidField("resource_version", `version ${startVersion} is in the future (newest is ${newest})`);
      }
      let replay: StoredEvent[];
      try {
        replay = await store.eventsAfter(startVersion);
      } catch (error) {
        if (error instanceof HistoryExpiredError)
          throw resourceVersionExpired(startVersion, error.oldestRetainedVersion);
        throw error;
      }
      watcher.begin(startVersion, translate, replay);
    }
    if (req.resourceVersion === "") {
      for (const e of initial) yield e;
      // Sent: the stream does not keep its initial state for as long as it is open.
      initial.length = 0;
      // Ends the initial state at once with a bookmark (as Kubernetes' initial-events-end):
      // from here on the client can resume by version instead of starting over from "". Changes
      // committed while the initial state streamed are still queued: the bookmark stays below them.
      yield heartbeat(watcher.bookmarkVersion());
    }

    let lastHeartbeat = deps.clock.now().getTime();
    const interval = deps.limits.heartbeatIntervalMs;
    const expiresAt = principal.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
    // One listener and one timer per heartbeat period, not one each per wake-up: a stream
    // woken by every commit of a burst waits on the watcher alone (one promise per wake-up).
    const stop = new AbortController();
    const onAbort = () => {
      stop.abort();
      watcher.interrupt();
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    let timerSet = false;
    let heartbeatDue = false;
    live.watcher = watcher;
    try {
      for (;;) {
        if (ctx.signal.aborted) return;
        if (deps.clock.now().getTime() >= expiresAt) throw credentialsExpired();
        for (let next = watcher.take(); next !== undefined; next = watcher.take()) yield next;
        if (watcher.ended) {
          if (watcher.ended.error) throw watcher.ended.error;
          return;
        }
        if (heartbeatDue) {
          heartbeatDue = false;
          if (watcher.pending === 0 && deps.clock.now().getTime() < expiresAt) {
            lastHeartbeat = deps.clock.now().getTime();
            yield heartbeat(watcher.bookmarkVersion());
          }
          continue;
        }
        if (!timerSet) {
          timerSet = true;
          const now = deps.clock.now().getTime();
          const wait = Math.min(interval - (now - lastHeartbeat), expiresAt - now);
          deps.clock.sleep(Math.max(0, wait), stop.signal).then(
            () => {
              timerSet = false;
              heartbeatDue = true;
              watcher.interrupt();
            },
            () => undefined,
          );
        }
        await watcher.waitForChange();
      }
    } finally {
      live.watcher = undefined;
      ctx.signal.removeEventListener("abort", onAbort);
      stop.abort();
    }
  } finally {
    if (shared) sharing.leave(filters, shared);
    watchHub.release(watcher);
  }
}

function credentialsExpired(): Error {
  return apiError(Code.Unauthenticated, "UNAUTHENTICATED", "credentials expired; reconnect with a fresh token");
}
