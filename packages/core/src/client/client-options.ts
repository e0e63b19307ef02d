import type { Interceptor } from "@connectrpc/connect";
import type { RetryOptions } from "../retry/retry-options.js";
import type { Clock, Random } from "../time/clock.js";
import type { WatchOptions } from "../watch/vcluster-watch.js";

export type Protocol = "connect" | "grpc" | "grpc-web";
export type HttpVersion = "1.1" | "2";

/**
 * A bearer token, or a function returning one, called for every attempt so it may refresh.
 * Wrap fetchers in `cachedToken` (or use `clientCredentialsToken`) to reuse a token until
 * shortly before it expires and to fetch anew when the server refuses it.
 */
export type TokenSource = string | (() => string | Promise<string>);

export interface ClientOptions {
  /** Server URL, e.g. "http://127.0.0.1:8080". */
  baseUrl: string;
  /** Wire protocol. Default "connect". */
  protocol?: Protocol;
  /** HTTP version. Default "2" for gRPC (which needs it), "1.1" otherwise. Browsers decide for themselves. */
  httpVersion?: HttpVersion;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: TokenSource;
  /** Total time per call, retries included; 0 disables. Default 30 000 ms. Watches are never limited. */
  timeoutMs?: number;
  /** Retry policy, or false to disable retries. */
  retry?: RetryOptions | false;
  /** Extra interceptors, run on every attempt inside the retry loop. */
  interceptors?: Interceptor[];
  /** Default settings of every watch the client opens (waiters and informers included). */
  watch?: Pick<WatchOptions, "backoff" | "heartbeatTimeoutMs">;
  /** Injected time source for every helper (tests). */
  clock?: Clock;
  /** Injected random source for every jitter (tests). */
  random?: Random;
}

export const clientDefaults = { protocol: "connect", timeoutMs: 30_000 } as const;

/** What a runtime-specific package needs to build its transport. */
export interface TransportConfig {
  baseUrl: string;
  protocol: Protocol;
  httpVersion: HttpVersion;
  /** Retry, auth and the caller's interceptors, outermost first. */
  interceptors: Interceptor[];
  /** undefined: no default timeout. */
  defaultTimeoutMs: number | undefined;
}

export function resolveHttpVersion(options: Pick<ClientOptions, "protocol" | "httpVersion">): HttpVersion {
  const protocol = options.protocol ?? clientDefaults.protocol;
  if (protocol === "grpc" && options.httpVersion === "1.1") {
    throw new TypeError('the gRPC protocol needs HTTP/2: use httpVersion "2" or protocol "grpc-web"');
  }
  return options.httpVersion ?? (protocol === "grpc" ? "2" : "1.1");
}
