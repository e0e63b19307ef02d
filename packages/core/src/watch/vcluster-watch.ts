import type { MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { type VClusterService, WatchEventType, type WatchVClusterRequestSchema } from "@open-vcluster/api";
import { sentTokenKey } from "../client/token-source.js";
import { retrySafeKey } from "../retry/retry-context.js";
import { Backoff } from "../time/backoff.js";
import { abortReason, type Clock, type Random, sleep, systemClock } from "../time/clock.js";
import { endsWatch } from "./permanent-errors.js";
import { compareResourceVersions, resourceVersionOf } from "./resource-version.js";
import type { ConnectionStatus, WatchEvent } from "./watch-types.js";

export type WatchRequestInit = Omit<
  MessageInitShape<typeof WatchVClusterRequestSchema>,
  "resourceVersion" | "$typeName"
>;

export interface WatchOptions {
  /** Resume after this version; "" (default) first delivers every matching vcluster as ADDED. */
  resourceVersion?: string;
  /** Ends the watch; iteration then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Reconnect backoff (full jitter), reset once a stream delivers a message. Default 800 ms → 30 s. */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * A stream silent for this long is treated as dead and replaced. Default 15 000 ms: three of
   * the server's 5 s heartbeats.
   */
  heartbeatTimeoutMs?: number;
  /** Called on every connection status change, with the error that caused a reconnect. */
  onStatus?: (status: ConnectionStatus, error?: ConnectError) => void;
  /** Called with each heartbeat's version (a bookmark: nothing up to it is pending). */
  onBookmark?: (resourceVersion: string) => void;
  /** Extra headers sent when opening each stream. */
  headers?: CallOptions["headers"];
  /**
   * Called with the refused token when the server refuses the credentials; returns true when a fresh token can be
   * fetched, and the watch then reconnects once more before giving up. Clients wire this to
   * their token source, so a watch outlives token rotation.
   */
  refreshCredentials?: (refusedToken: string | undefined) => boolean;
  clock?: Clock;
  random?: Random;
}

export const watchDefaults = { backoffInitialMs: 800, backoffMaxMs: 30_000, heartbeatTimeoutMs: 15_000 } as const;

/**
 * A WatchVCluster stream that survives disconnects: it resumes from the newest version seen,
 * skips replayed events, replaces streams whose heartbeats stop, and ends only when closed,
 * aborted, or on an error retrying cannot fix (auth, invalid request, expired version — the
 * latter is the caller's cue to re-list, which `listWatch` does).
 */
export class VClusterWatch implements AsyncIterable<WatchEvent> {
  private currentStatus: ConnectionStatus = "connecting";
  private lastVersion: string;
  private readonly closer = new AbortController();
  private started = false;
  // A watch from "" first receives the current state as ADDED events in no particular version
  // order, so version de-duplication starts only at the first heartbeat, which marks the end of
  // that initial state. Until then a reconnect starts over from "". The resume point then is
  // that heartbeat's version, never a newer object of the initial state: changes of other
  // objects between the two may still be on their way.
  private initialState: boolean;
  /** Set once credentials were refreshed for a refused stream; cleared when a stream delivers. */
  private credentialsRefreshed = false;
  /** The token the auth interceptor sent on the current stream. */
  private readonly sentToken: { token?: string } = {};
  private readonly clock: Clock;
  private readonly backoff: Backoff;

  constructor(
    private readonly client: Client<typeof VClusterService>,
    private readonly request: WatchRequestInit = {},
    private readonly options: WatchOptions = {},
  ) {
    this.lastVersion = options.resourceVersion ?? "";
    this.initialState = this.lastVersion === "";
    this.clock = options.clock ?? systemClock;
    this.backoff = new Backoff(
      {
        initialMs: options.backoff?.initialMs ?? watchDefaults.backoffInitialMs,
        maxMs: options.backoff?.maxMs ?? watchDefaults.backoffMaxMs,
      },
      options.random ?? Math.random,
    );
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  /** The newest version delivered or bookmarked; where the next stream resumes. */
  get resourceVersion(): string {
    return this.lastVersion;
  }

  /** Ends the watch: the iteration finishes normally. */
  close(): void {
    this.closer.abort();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    if (this.started) throw new Error("a watch can be iterated only once; create another for a second consumer");
    this.started = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<WatchEvent, void, undefined> {
    const { signal } = this.options;
    const stop = AbortSignal.any(signal ? [signal, this.closer.signal] : [this.closer.signal]);
    let opened = false;
    try {
      for (;;) {
        if (opened) this.setStatus("reconnecting");
        else this.options.onStatus?.("connecting");
        opened = true;
        let failure: ConnectError;
        try {
          yield* this.streamOnce(stop);
          // A clean end is a server going away (restart, drain): a watch never ends silently.
          failure = new ConnectError("watch stream ended by the server", Code.Unavailable);
        } catch (error) {
          if (stop.aborted) break;
          failure = ConnectError.from(error);
          if (this.retryWithFreshCredentials(failure)) continue;
          if (endsWatch(failure)) throw failure;
        }
        this.setStatus("reconnecting", failure);
        await sleep(this.clock, this.backoff.next(), stop).catch(() => undefined);
        if (stop.aborted) break;
      }
      if (signal?.aborted && !this.closer.signal.aborted) throw abortReason(signal);
    } finally {
      this.setStatus("closed");
    }
  }

  private retryWithFreshCredentials(failure: ConnectError): boolean {
    if (failure.code !== Code.Unauthenticated || this.credentialsRefreshed) return false;
    if (!this.options.refreshCredentials?.(this.sentToken.token)) return false;
    this.credentialsRefreshed = true;
    return true;
  }

  /** Runs one stream until it fails; yields only events newer than everything seen before. */
  private async *streamOnce(stop: AbortSignal): AsyncGenerator<WatchEvent, void, undefined> {
    const attempt = new AbortController();
    const onStop = () => attempt.abort(stop.reason);
    stop.addEventListener("abort", onStop, { once: true });
    const timeoutMs = this.options.heartbeatTimeoutMs ?? watchDefaults.heartbeatTimeoutMs;
    let silent = false;
    let disarm = () => {};
    const arm = () => {
      disarm();
      disarm = this.clock.setTimer(() => {
        silent = true;
        attempt.abort(new ConnectError(`no message or heartbeat for ${timeoutMs} ms`, Code.DeadlineExceeded));
      }, timeoutMs);
    };
    try {
      arm();
      const stream = this.client.watchVCluster(
        { ...this.request, resourceVersion: this.lastVersion },
        {
          signal: attempt.signal,
          // A watch is open-ended: no call timeout; opening it is safe to retry.
          timeoutMs: 0,
          headers: this.options.headers,
          contextValues: createContextValues().set(retrySafeKey, true).set(sentTokenKey, this.sentToken),
          onHeader: () => this.setStatus("connected"),
        },
      );
      for await (const message of stream) {
        disarm();
        this.setStatus("connected");
        this.backoff.reset();
        this.credentialsRefreshed = false;
        const version = resourceVersionOf(message.vcluster);
        if (message.type === WatchEventType.UNSPECIFIED || message.type === WatchEventType.ERROR) {
          this.initialState = false;
          this.advanceTo(version);
          this.options.onBookmark?.(version);
        } else if (message.vcluster && (this.initialState || compareResourceVersions(version, this.lastVersion) > 0)) {
          if (!this.initialState) this.lastVersion = version;
          // The liveness timer is paused while the consumer holds the event, so a slow consumer
          // is not mistaken for a dead server.
          yield { type: message.type, vcluster: message.vcluster, resourceVersion: version };
        }
        arm();
      }
    } catch (error) {
      if (silent) throw new ConnectError(`no message or heartbeat for ${timeoutMs} ms`, Code.DeadlineExceeded);
      throw error;
    } finally {
      disarm();
      stop.removeEventListener("abort", onStop);
      attempt.abort();
    }
  }

  private advanceTo(version: string): void {
    this.lastVersion = newer(this.lastVersion, version);
  }

  private setStatus(status: ConnectionStatus, error?: ConnectError): void {
    if (this.currentStatus === status) return;
    this.currentStatus = status;
    this.options.onStatus?.(status, error);
  }
}

function newer(a: string, b: string): string {
  return compareResourceVersions(a, b) >= 0 ? a : b;
}
