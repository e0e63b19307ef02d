// The transport turns a call's timeout into a protocol header before interceptors run. Reading it
// tells the retry interceptor the call's total budget; rewriting it gives each attempt only what
// is left, so the server never works on an attempt the client has already given up on.

const connectHeader = "connect-timeout-ms";
const grpcHeader = "grpc-timeout";

const grpcUnitsMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

export function readTimeoutHeader(header: Headers): number | undefined {
  const connect = header.get(connectHeader);
  if (connect !== null) {
    const ms = Number(connect);
    return Number.isFinite(ms) ? ms : undefined;
  }
  const grpc = header.get(grpcHeader);
  if (grpc !== null) {
    const match = /^(\d{1,8})([HMSmun])$/.exec(grpc);
    const unit = match?.[2];
    if (!match || !unit) return undefined;
    return Number(match[1]) * (grpcUnitsMs[unit] ?? 1);
  }
  return undefined;
}

/** Rewrites whichever timeout header the protocol uses; a no-op when the call has no timeout. */
export function writeTimeoutHeader(header: Headers, ms: number): void {
  const whole = Math.max(1, Math.ceil(ms));
  if (header.has(connectHeader)) header.set(connectHeader, String(whole));
  if (header.has(grpcHeader)) header.set(grpcHeader, `${Math.min(whole, 99_999_999)}m`);
}
