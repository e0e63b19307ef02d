import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { type CreateVClusterRequest, VClusterService } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import { drive } from "../../test/drive.js";
import { apiError, FakeVClusterBackend, Phase } from "../../test/fake-vcluster-backend.js";
import { RetriedCallError } from "../errors/retried-call-error.js";
import { ManualClock } from "../time/manual-clock.js";
import { createRetryInterceptor } from "./retry-interceptor.js";
import type { RetryEvent, RetryOptions } from "./retry-options.js";

/** Fails the first calls of a method with the given errors, recording what each attempt sent. */
function faults(method: string, errors: ConnectError[]) {
  const seen: { header: Headers; message: unknown }[] = [];
  const interceptor: Interceptor = (next) => async (req) => {
    if (req.method.name !== method) return next(req);
    seen.push({ header: new Headers(req.header), message: req.message });
    const error = errors.shift();
    if (error) throw error;
    return next(req);
  };
  return { interceptor, seen };
}

function setup(method: string, errors: ConnectError[], options: RetryOptions = {}) {
  const clock = new ManualClock();
  const backend = new FakeVClusterBackend();
  backend.put("default", "a", Phase.RUNNING);
  const retries: RetryEvent[] = [];
  const fault = faults(method, errors);
  const retry = createRetryInterceptor({ clock, random: () => 0.5, onRetry: (e) => retries.push(e), ...options });
  const created: CreateVClusterRequest[] = [];
  backend.extraHandlers = {
    createVCluster: (req) => {
      created.push(req);
      return { vcluster: { name: req.name } };
    },
    updateVCluster: () => ({}),
  };
  const transport = createRouterTransport(backend.routes, { transport: { interceptors: [retry, fault.interceptor] } });
  return { clock, client: createClient(VClusterService, transport), retries, seen: fault.seen, created };
}

const unavailable = () => new ConnectError("try again", Code.Unavailable);

describe("retry interceptor", () => {
  it("retries a read-only call on Unavailable with full-jitter backoff, base 100 ms doubling", async () => {
    const t = setup("GetVCluster", [unavailable(), unavailable()]);
    const res = await drive(t.clock, t.client.getVCluster({ name: "a" }));
    expect(res.vcluster?.name).toBe("a");
    expect(t.retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 50],
      [2, 100],
    ]);
    expect(t.clock.now()).toBe(150);
  });

  it("gives up after 3 attempts with the attempt history on the error", async () => {
    const t = setup("GetVCluster", [unavailable(), unavailable(), new ConnectError("still down", Code.Unavailable)]);
    const error = await drive(t.clock, t.client.getVCluster({ name: "a" })).catch((e) => e);
    expect(error).toBeInstanceOf(RetriedCallError);
    expect(error).toBeInstanceOf(ConnectError);
    expect(error.code).toBe(Code.Unavailable);
    expect(error.attempts).toBe(3);
    expect(error.previousErrors.map((e: ConnectError) => e.rawMessage)).toEqual(["try again", "try again"]);
    expect(error.rawMessage).toContain("still down");
  });

  it("does not retry codes that retrying cannot fix", async () => {
    const t = setup("GetVCluster", [new ConnectError("nope", Code.NotFound)]);
    const error = await drive(t.clock, t.client.getVCluster({ name: "a" })).catch((e) => e);
    expect(error.code).toBe(Code.NotFound);
    expect(error).not.toBeInstanceOf(RetriedCallError);
    expect(t.seen).toHaveLength(1);
  });

  it("fills request_id once per call and sends the same id on every attempt", async () => {
    const t = setup("CreateVCluster", [unavailable(), unavailable()]);
    await drive(t.clock, t.client.createVCluster({ name: "x" }));
    const ids = t.seen.map((s) => (s.message as CreateVClusterRequest).requestId);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(1);
    expect(t.created[0]?.requestId).toBe(ids[0]);
    await drive(t.clock, t.client.createVCluster({ name: "y" }));
    expect(t.created[1]?.requestId).not.toBe(ids[0]);
  });

  it("never overwrites the caller's request_id", async () => {
    const t = setup("CreateVCluster", [unavailable()]);
    await drive(t.clock, t.client.createVCluster({ name: "x", requestId: "mine" }));
    expect(t.seen.map((s) => (s.message as CreateVClusterRequest).requestId)).toEqual(["mine", "mine"]);
  });

  it("does not retry other mutations on Unavailable: the server may have applied them", async () => {
    const t = setup("UpdateVCluster", [unavailable()]);
    const error = await drive(t.clock, t.client.updateVCluster({ name: "a" })).catch((e) => e);
    expect(error.code).toBe(Code.Unavailable);
    expect(t.seen).toHaveLength(1);
  });

  it("retries other mutations when the connection was refused before sending", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    const t = setup("UpdateVCluster", [new ConnectError("refused", Code.Unavailable, undefined, undefined, refused)]);
    await drive(t.clock, t.client.updateVCluster({ name: "a" }));
    expect(t.seen).toHaveLength(2);
  });

  it("uses a longer base delay after ResourceExhausted and honours the server's retry delay", async () => {
    const t = setup("GetVCluster", [
      new ConnectError("slow down", Code.ResourceExhausted),
      apiError(Code.Unavailable, "UNAVAILABLE", "restarting", 7000),
    ]);
    await drive(t.clock, t.client.getVCluster({ name: "a" }));
    expect(t.retries.map((r) => r.delayMs)).toEqual([500, 7000]);
  });

  it("caps the backoff at maxDelayMs", async () => {
    const t = setup("GetVCluster", [unavailable(), unavailable(), unavailable()], {
      maxAttempts: 4,
      random: () => 0.999,
      baseDelayMs: 10_000,
    });
    await drive(t.clock, t.client.getVCluster({ name: "a" }));
    expect(t.retries.map((r) => r.delayMs)).toEqual([9990, 19_980, 19_980]);
  });

  it("treats the call timeout as the total budget: each attempt is told only what is left", async () => {
    const t = setup("GetVCluster", [unavailable(), unavailable()], { random: () => 0.999 });
    await drive(t.clock, t.client.getVCluster({ name: "a" }, { timeoutMs: 5000 }));
    expect(t.seen.map((s) => s.header.get("connect-timeout-ms"))).toEqual(["5000", "4901", "4702"]);
  });

  it("gives up instead of sleeping past the deadline", async () => {
    const t = setup("GetVCluster", [apiError(Code.Unavailable, "UNAVAILABLE", "later", 3000)]);
    const error = await drive(t.clock, t.client.getVCluster({ name: "a" }, { timeoutMs: 2000 })).catch((e) => e);
    expect(error.code).toBe(Code.Unavailable);
    expect(t.seen).toHaveLength(1);
    expect(t.clock.now()).toBe(0);
  });

  it("retries an attempt that timed out while overall time remains", async () => {
    const clock = new ManualClock();
    let calls = 0;
    const hang: Interceptor = (next) => async (req) => {
      calls++;
      if (calls === 1) {
        return new Promise((_, reject) => req.signal.addEventListener("abort", () => reject(req.signal.reason)));
      }
      return next(req);
    };
    const backend = new FakeVClusterBackend();
    backend.put("default", "a", Phase.RUNNING);
    const transport = createRouterTransport(backend.routes, {
      transport: { interceptors: [createRetryInterceptor({ clock, random: () => 0, attemptTimeoutMs: 1000 }), hang] },
    });
    const res = await drive(
      clock,
      createClient(VClusterService, transport).getVCluster({ name: "a" }, { timeoutMs: 10_000 }),
    );
    expect(res.vcluster?.name).toBe("a");
    expect(calls).toBe(2);
    expect(clock.now()).toBe(1000);
  });

  it("stops retrying when the client's retry budget is spent", async () => {
    const errors = Array.from({ length: 10 }, unavailable);
    const t = setup("GetVCluster", errors, { budget: { capacity: 10, retryCost: 5 }, maxAttempts: 10 });
    const error = await drive(t.clock, t.client.getVCluster({ name: "a" })).catch((e) => e);
    expect(error.attempts).toBe(3);
    expect(error.rawMessage).toContain("retry budget exhausted");
  });

  it("stops sleeping as soon as the caller aborts", async () => {
    const t = setup("GetVCluster", [unavailable()], { baseDelayMs: 60_000 });
    const controller = new AbortController();
    const call = t.client.getVCluster({ name: "a" }, { signal: controller.signal }).catch((e) => e);
    await t.clock.advance(10);
    expect(t.clock.pending).toBe(1);
    controller.abort();
    const error = await call;
    expect(error.code).toBe(Code.Canceled);
    expect(t.clock.now()).toBe(10);
  });
});
