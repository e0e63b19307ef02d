import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import {
  type Attributes,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { onStreamEnd } from "../http/stream-end.js";
import type { Provider } from "../provider/index.js";
import type { Store } from "../store/index.js";
import { codeName } from "./code-name.js";
import { withRun } from "./metrics.js";
import { REQUEST_ID_HEADER } from "./request-id.js";

const headers: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * A SERVER span per RPC, continuing the caller's trace when it sent W3C `traceparent`. The
 * handler runs inside it, so store and provider spans become its children.
 */
export function tracingInterceptor(tracer: Tracer): Interceptor {
  return (next) => async (req) => {
    const parent = propagation.extract(context.active(), req.header, headers);
    const contentType = req.header.get("content-type") ?? "";
    const span = tracer.startSpan(
      `${req.service.typeName}/${req.method.name}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          "rpc.system": contentType.startsWith("application/grpc") ? "grpc" : "connect_rpc",
          "rpc.service": req.service.typeName,
          "rpc.method": req.method.name,
          "vcluster_api.request_id": req.header.get(REQUEST_ID_HEADER) ?? "",
        },
      },
      parent,
    );
    const end = (error: unknown) => {
      const code = error === undefined ? 0 : ConnectError.from(error, Code.Internal).code;
      span.setAttribute("rpc.response.status_code", codeName(code));
      if (error !== undefined) fail(span, error);
      span.end();
    };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await context.with(trace.setSpan(parent, span), () => next(req));
    } catch (error) {
      end(error);
      throw error;
    }
    if (!res.stream) {
      end(undefined);
      return res;
    }
    return {
      ...res,
      message: onStreamEnd(res.message, (outcome) => {
        if (outcome.kind === "done") end(undefined);
        else if (outcome.kind === "failed") end(outcome.error);
      }),
    };
  };
}

/** Runs fn in a span of its own (a child of the active one); works for sync and async fn. */
function inSpan<T>(tracer: Tracer, name: string, attributes: Attributes, fn: () => T): T {
  return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, (span) => {
    let result: T;
    try {
      result = fn();
    } catch (error) {
      fail(span, error);
      span.end();
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          span.end();
          return value;
        },
        (error: unknown) => {
          fail(span, error);
          span.end();
          throw error;
        },
      ) as T;
    }
    span.end();
    return result;
  });
}

/** A span around every store transaction. */
export function traceStore(store: Store, tracer: Tracer): Store {
  const transaction = store.transaction.bind(store) as Store["transaction"];
  return new Proxy(store, {
    get(object, key, receiver) {
      if (key === "transaction") {
        return ((fn: Parameters<Store["transaction"]>[0]) =>
          inSpan(tracer, "store.transaction", {}, () => transaction(fn))) as Store["transaction"];
      }
      const value = Reflect.get(object, key, receiver);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}

/** A span around every provider operation, naming the vcluster it works on. */
export function traceProvider(provider: Provider, tracer: Tracer): Provider {
  return withRun(provider, (op) =>
    inSpan(
      tracer,
      `provider.${op.kind}`,
      {
        "vcluster_api.provider": provider.name,
        "vcluster_api.operation": op.kind,
        "vcluster_api.vcluster.namespace": op.vcluster.namespace,
        "vcluster_api.vcluster.name": op.vcluster.name,
        "vcluster_api.vcluster.id": op.vcluster.id,
      },
      () => provider.run(op),
    ),
  );
}
