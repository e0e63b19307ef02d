// Runs the language-neutral vectors in contract/vectors/ (see its README) against this core, so
// the TypeScript, Go and Python SDKs are held to one behaviour.
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import { ErrorDetailSchema, SnapshotService, VClusterService, WatchEventType } from "@open-vcluster/api";
import { describe, expect, it } from "vitest";
import {
  attemptHistory,
  Backoff,
  bindHelpers,
  createRetryInterceptor,
  fullJitterDelay,
  isResourceVersionExpired,
  LabelSelectorError,
  ManualClock,
  Paginated,
  parseLabelSelector,
  RepeatedPageTokenError,
  RetryBudget,
  type RetryOptions,
  retryBudgetDefaults,
  retryDefaults,
  VClusterWatch,
  watchDefaults,
} from "../src/index.js";
import { collect, drive, until } from "./drive.js";
import { codeOf, formatObject, ScriptedBackend, type ScriptStep } from "./scripted-backend.js";

function vectors<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`../../../contract/vectors/${file}`, import.meta.url), "utf8")) as T;
}

interface Requirement {
  key: string;
  operator: string;
  values: string[];
}
const labels = vectors<{
  parse: { selector: string; canonical?: string; requirements?: Requirement[]; errorOffset?: number }[];
  match: { selector: string; labels: Record<string, string>; matches: boolean }[];
}>("label-selectors.json");

describe("vectors: label selectors", () => {
  it.each(labels.parse.map((c) => [JSON.stringify(c.selector), c] as const))("parses %s", (_, c) => {
    if (c.errorOffset !== undefined) {
      const error = (() => {
        try {
          parseLabelSelector(c.selector);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(LabelSelectorError);
      expect((error as LabelSelectorError).position).toBe(c.errorOffset);
      return;
    }
    const selector = parseLabelSelector(c.selector);
    expect(selector.toString()).toBe(c.canonical);
    expect(selector.requirements.map((r) => ({ ...r, values: [...r.values] }))).toEqual(c.requirements);
  });

  it("matches label sets", () => {
    for (const c of labels.match) {
      expect({ ...c, matches: parseLabelSelector(c.selector).matches(c.labels) }).toEqual(c);
    }
  });
});

const backoff = vectors<{
  watchDefaults: typeof watchDefaults;
  fullJitter: {
    initialMs: number;
    maxMs: number;
    multiplier?: number;
    retry: number;
    random: number;
    delayMs: number;
    ceilingMs: number;
  }[];
  sequences: { initialMs: number; maxMs: number; random: number; steps: { op: string; delayMs?: number }[] }[];
}>("backoff.json");

describe("vectors: backoff", () => {
  it("has the watch defaults", () => expect(watchDefaults).toEqual(backoff.watchDefaults));

  it("draws full-jitter delays in [0, ceiling)", () => {
    for (const c of backoff.fullJitter) {
      const delay = fullJitterDelay(c.retry, c, () => c.random);
      expect({ ...c, delayMs: delay }).toEqual(c);
      expect(delay).toBeLessThanOrEqual(c.ceilingMs);
      expect(fullJitterDelay(c.retry, c, () => 1)).toBe(c.ceilingMs);
    }
  });

  it("grows with failures and resets", () => {
    for (const s of backoff.sequences) {
      const b = new Backoff(s, () => s.random);
      const steps = s.steps.map((step) => {
        if (step.op !== "reset") return { op: "next", delayMs: b.next() };
        b.reset();
        return { op: "reset" };
      });
      expect(steps).toEqual(s.steps);
    }
  });
});

interface Failure {
  kind: "response" | "connection_refused" | "refused_stream";
  code: string;
  reason?: string;
  retryDelayMs?: number;
}
const retry = vectors<{
  defaults: typeof retryDefaults & { budget: typeof retryBudgetDefaults };
  decisions: {
    procedure: string;
    failure: Failure;
    callerRequestId?: string;
    retry: boolean;
    requestId?: "generated" | "caller";
  }[];
  sequences: {
    name: string;
    procedure: string;
    random: number;
    timeoutMs?: number;
    options?: RetryOptions;
    failures: Failure[];
    expect: { outcome: "ok" | "error"; code?: string; attempts: number; delaysMs: number[] };
  }[];
  budget: {
    options: ConstructorParameters<typeof RetryBudget>[0];
    steps: {
      op: string;
      afterTimeout?: boolean;
      lastRetryCost?: number | null;
      taken?: number | null;
      available: number;
    }[];
  }[];
}>("retry.json");

function failureError(f: Failure): ConnectError {
  const code = codeOf(f.code);
  if (f.kind === "connection_refused") {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    return new ConnectError("connection refused", code, undefined, undefined, cause);
  }
  if (f.kind === "refused_stream") {
    return new ConnectError("stream refused", code, undefined, undefined, new Error("NGHTTP2_REFUSED_STREAM"));
  }
  if (!f.reason && f.retryDelayMs === undefined) return new ConnectError("injected", code);
  const detail = create(ErrorDetailSchema, { reason: f.reason ?? "" });
  if (f.retryDelayMs !== undefined) detail.retryDelay = durationFromMs(f.retryDelayMs);
  return new ConnectError("injected", code, undefined, [{ desc: ErrorDetailSchema, value: detail }]);
}

/** A client whose every method answers an empty response after the scripted failures. */
function retryHarness(procedure: string, failures: Failure[], options: RetryOptions) {
  const [serviceName, methodName] = procedure.split("/") as [string, string];
  const service = [VClusterService, SnapshotService].find((s) => s.typeName === serviceName);
  const method = service?.methods.find((m) => m.name === methodName);
  if (!service || !method) throw new Error(`unknown procedure ${procedure}`);
  const pending = failures.map(failureError);
  const sent: Record<string, unknown>[] = [];
  const fault: Interceptor = (next) => async (req) => {
    sent.push(req.message as Record<string, unknown>);
    const error = pending.shift();
    if (error) throw error;
    return next(req);
  };
  const delays: number[] = [];
  const transport = createRouterTransport(
    (router) => {
      const empty = Object.fromEntries(service.methods.map((m) => [m.localName, () => ({})]));
      router.service(service, empty as never);
    },
    {
      transport: {
        interceptors: [createRetryInterceptor({ ...options, onRetry: (e) => delays.push(e.delayMs) }), fault],
      },
    },
  );
  const client = createClient(service, transport) as unknown as Record<
    string,
    (req: object, opts?: object) => Promise<unknown>
  >;
  const call = (request: object, callOptions: object = {}) =>
    (client[method.localName] as (req: object, opts?: object) => Promise<unknown>)(request, callOptions);
  return { call, sent, delays };
}

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("vectors: retry", () => {
  it("has the defaults", () => {
    expect({ ...retryDefaults, budget: retryBudgetDefaults }).toEqual(retry.defaults);
  });

  it.each(
    retry.decisions.map(
      (c) =>
        [
          `${c.procedure.split("/")[1]} ${c.failure.kind} ${c.failure.code}${c.failure.reason ? `/${c.failure.reason}` : ""}${c.callerRequestId ? " (caller's request_id)" : ""}`,
          c,
        ] as const,
    ),
  )("%s", async (_, c) => {
    const clock = new ManualClock();
    const t = retryHarness(c.procedure, [c.failure], { clock, random: () => 0 });
    const request = c.callerRequestId ? { requestId: c.callerRequestId } : {};
    await drive(clock, t.call(request)).catch(() => undefined);
    expect(t.sent).toHaveLength(c.retry ? 2 : 1);
    const ids = t.sent.map((m) => m.requestId);
    if (c.requestId === "caller") expect(ids.every((id) => id === c.callerRequestId)).toBe(true);
    if (c.requestId === "generated") {
      expect(ids[0]).toMatch(uuidV4);
      expect(new Set(ids).size).toBe(1);
    }
    if (c.requestId === undefined) expect(ids.every((id) => id === undefined)).toBe(true);
  });

  it.each(retry.sequences.map((s) => [s.name, s] as const))("%s", async (_, s) => {
    const clock = new ManualClock();
    const t = retryHarness(s.procedure, s.failures, { ...s.options, clock, random: () => s.random });
    const outcome = await drive(clock, t.call({}, s.timeoutMs ? { timeoutMs: s.timeoutMs } : {})).then(
      () => ({ outcome: "ok" as const, attempts: t.sent.length }),
      (error: ConnectError) => ({
        outcome: "error" as const,
        code: Code[error.code],
        attempts: attemptHistory(error).attempts,
      }),
    );
    expect({ ...outcome, delaysMs: t.delays }).toEqual({
      ...s.expect,
      ...(s.expect.code ? { code: Code[codeOf(s.expect.code)] } : {}),
    });
    expect(t.sent).toHaveLength(s.expect.attempts);
    if (s.procedure.endsWith("/CreateVCluster")) expect(new Set(t.sent.map((m) => m.requestId)).size).toBe(1);
  });

  it("keeps a client-wide token bucket", () => {
    for (const script of retry.budget) {
      const budget = new RetryBudget(script.options);
      const steps = script.steps.map((step) => {
        if (step.op === "acquire") {
          const taken = budget.acquire(step.afterTimeout ?? false) ?? null;
          return { op: step.op, afterTimeout: step.afterTimeout, taken, available: budget.available };
        }
        budget.succeeded(step.lastRetryCost ?? undefined);
        return { op: step.op, lastRetryCost: step.lastRetryCost, available: budget.available };
      });
      expect(steps).toEqual(script.steps);
    }
  });
});

const paging = vectors<{
  scenarios: {
    name: string;
    startToken?: string;
    stopAfterItems?: number;
    pages: Record<string, { items: string[]; nextPageToken: string }>;
    expect: { items: string[]; requestedTokens: string[]; error?: { kind: string; pageToken: string } };
  }[];
}>("paging.json");

describe("vectors: paging", () => {
  it.each(paging.scenarios.map((s) => [s.name, s] as const))("%s", async (_, s) => {
    const requestedTokens: string[] = [];
    const pages = new Paginated<string>(
      async (token) => {
        requestedTokens.push(token);
        const page = s.pages[token];
        if (!page) throw new Error(`no page for token ${JSON.stringify(token)}`);
        return { ...page, totalCount: 0 };
      },
      s.startToken === undefined ? {} : { pageToken: s.startToken },
    );
    const items: string[] = [];
    let error: { kind: string; pageToken: string } | undefined;
    try {
      for await (const item of pages) {
        items.push(item);
        if (items.length === s.stopAfterItems) break;
      }
    } catch (e) {
      if (!(e instanceof RepeatedPageTokenError)) throw e;
      error = { kind: "repeated_page_token", pageToken: e.pageToken };
    }
    expect({ items, requestedTokens, ...(error ? { error } : {}) }).toEqual(s.expect);
  });
});

interface Expected {
  events: string[];
  cache?: string[];
  error?: string;
}
const recovery = vectors<{
  watch: { name: string; resourceVersion: string; steps: ScriptStep[]; expect: Expected }[];
  informer: { name: string; steps: ScriptStep[]; expect: Expected }[];
}>("watch-recovery.json");

const eventText = (e: { type: WatchEventType; vcluster: Parameters<typeof formatObject>[0] }) =>
  `${WatchEventType[e.type]} ${formatObject(e.vcluster)}`;

function errorName(error: unknown): string {
  if (isResourceVersionExpired(error)) return "expired";
  if (error instanceof ConnectError) return Code[error.code];
  return String(error);
}
const expectedError = (name: string) => (name === "expired" ? name : Code[codeOf(name)]);
const ceiling = 20_000;

describe("vectors: watch recovery", () => {
  it.each(recovery.watch.map((s) => [s.name, s] as const))("watch: %s", async (_, s) => {
    const backend = new ScriptedBackend(s.steps);
    const client = createClient(VClusterService, createRouterTransport(backend.routes));
    const watch = new VClusterWatch(client, {}, { resourceVersion: s.resourceVersion, random: () => 0 });
    const events = collect(watch);
    await until(
      () => events.done || (!s.expect.error && backend.reachedEnd && events.items.length >= s.expect.events.length),
      ceiling,
    );
    watch.close();
    await events.finished;
    expect(backend.mismatches).toEqual([]);
    expect(events.items.map(eventText)).toEqual(s.expect.events);
    expect(events.error === undefined ? undefined : errorName(events.error)).toEqual(
      s.expect.error && expectedError(s.expect.error),
    );
  });

  it.each(recovery.informer.map((s) => [s.name, s] as const))("informer: %s", async (_, s) => {
    const backend = new ScriptedBackend(s.steps);
    const api = bindHelpers(createRouterTransport(backend.routes), { random: () => 0 });
    const informer = api.listWatch({ start: false });
    const events: string[] = [];
    informer.on((e) => events.push(eventText(e)));
    let failure: unknown;
    let ended = false;
    const running = informer.start().then(
      () => {
        ended = true;
      },
      (error: unknown) => {
        failure = error;
        ended = true;
      },
    );
    const cacheView = () => informer.list().map(formatObject).sort();
    const wanted = [...(s.expect.cache ?? [])].sort();
    await until(
      () =>
        ended ||
        (!s.expect.error &&
          backend.reachedEnd &&
          events.length >= s.expect.events.length &&
          cacheView().join("\n") === wanted.join("\n")),
      ceiling,
    );
    informer.stop();
    await running;
    expect(backend.mismatches).toEqual([]);
    expect(events).toEqual(s.expect.events);
    expect(cacheView()).toEqual(wanted);
    expect(informer.hasSynced()).toBe(true);
    expect(failure === undefined ? undefined : errorName(failure)).toEqual(
      s.expect.error && expectedError(s.expect.error),
    );
  });
});
