// The ConformanceService the Connect conformance suite's reference client calls: each RPC
// answers exactly as its request's response definition says, echoing what the server saw
// (headers, timeout, requests, GET query) so the runner can check the transport end to end.

import { create, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { type Any, anyPack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  type Error as ConformanceError,
  type ConformancePayload_RequestInfo,
  ConformancePayload_RequestInfoSchema,
  ConformanceService,
  type Header,
  HeaderSchema,
  type StreamResponseDefinition,
  type UnaryResponseDefinition,
} from "./gen/connectrpc/conformance/v1/service_pb.js";

const sleep = (ms: number, signal: AbortSignal) =>
  ms <= 0
    ? Promise.resolve()
    : new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });

function headersOf(headers: Headers): Header[] {
  const byName = new Map<string, string[]>();
  headers.forEach((value, name) => {
    byName.set(name, [...(byName.get(name) ?? []), value]);
  });
  return [...byName].map(([name, value]) => create(HeaderSchema, { name, value }));
}

function requestInfo(ctx: HandlerContext, requests: Any[]): ConformancePayload_RequestInfo {
  const timeout = ctx.timeoutMs();
  const info = create(ConformancePayload_RequestInfoSchema, {
    requestHeaders: headersOf(ctx.requestHeader),
    requests,
    ...(timeout !== undefined ? { timeoutMs: BigInt(timeout) } : {}),
  });
  if (ctx.requestMethod === "GET") {
    const query = new URL(ctx.url, "http://localhost").searchParams;
    const params = new Map<string, string[]>();
    query.forEach((value, name) => {
      params.set(name, [...(params.get(name) ?? []), value]);
    });
    info.connectGetInfo = {
      $typeName: "connectrpc.conformance.v1.ConformancePayload.ConnectGetInfo",
      queryParams: [...params].map(([name, value]) => create(HeaderSchema, { name, value })),
    };
  }
  return info;
}

function setMetadata(ctx: HandlerContext, def: UnaryResponseDefinition | StreamResponseDefinition | undefined): void {
  for (const h of def?.responseHeaders ?? []) for (const v of h.value) ctx.responseHeader.append(h.name, v);
  for (const h of def?.responseTrailers ?? []) for (const v of h.value) ctx.responseTrailer.append(h.name, v);
}

function toConnectError(error: ConformanceError, info: ConformancePayload_RequestInfo | undefined): ConnectError {
  const details = error.details.map((d) => ({ type: d.typeUrl.slice(d.typeUrl.lastIndexOf("/") + 1), value: d.value }));
  if (info) {
    details.push({
      type: ConformancePayload_RequestInfoSchema.typeName,
      value: toBinary(ConformancePayload_RequestInfoSchema, info),
    });
  }
  const connectError = new ConnectError(error.message ?? "", error.code as number as Code);
  // Raw (type, bytes) details, passed through as the client sent them.
  connectError.details.push(...details);
  return connectError;
}

function pack<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Any {
  return anyPack(schema, message);
}

async function unaryLike<Desc extends DescMessage>(
  schema: Desc,
  requests: MessageShape<Desc>[],
  def: UnaryResponseDefinition | undefined,
  ctx: HandlerContext,
) {
  setMetadata(ctx, def);
  const info = requestInfo(
    ctx,
    requests.map((r) => pack(schema, r)),
  );
  await sleep(def?.responseDelayMs ?? 0, ctx.signal);
  if (def?.response.case === "error") throw toConnectError(def.response.value, info);
  return {
    payload: { data: def?.response.case === "responseData" ? def.response.value : new Uint8Array(), requestInfo: info },
  };
}

export const conformanceService: ServiceImpl<typeof ConformanceService> = {
  unary: (req, ctx) => unaryLike(ConformanceService.method.unary.input, [req], req.responseDefinition, ctx),
  idempotentUnary: (req, ctx) =>
    unaryLike(ConformanceService.method.idempotentUnary.input, [req], req.responseDefinition, ctx),

  async clientStream(requests, ctx) {
    const received = [];
    for await (const req of requests) received.push(req);
    return unaryLike(ConformanceService.method.clientStream.input, received, received[0]?.responseDefinition, ctx);
  },

  async *serverStream(req, ctx) {
    const def = req.responseDefinition;
    setMetadata(ctx, def);
    let info: ConformancePayload_RequestInfo | undefined = requestInfo(ctx, [
      pack(ConformanceService.method.serverStream.input, req),
    ]);
    for (const data of def?.responseData ?? []) {
      await sleep(def?.responseDelayMs ?? 0, ctx.signal);
      yield { payload: { data, ...(info ? { requestInfo: info } : {}) } };
      info = undefined; // only the first response echoes the request
    }
    if (def?.error) throw toConnectError(def.error, info);
  },

  async *bidiStream(requests, ctx) {
    const schema = ConformanceService.method.bidiStream.input;
    let def: StreamResponseDefinition | undefined;
    let fullDuplex = false;
    const received: Any[] = [];
    const responses: Uint8Array[] = [];
    let sent = 0;
    const response = async (echo: Any[]) => {
      await sleep(def?.responseDelayMs ?? 0, ctx.signal);
      sent += 1;
      return { payload: { data: responses.shift() as Uint8Array, requestInfo: requestInfo(ctx, echo) } };
    };
    for await (const req of requests) {
      if (received.length === 0) {
        def = req.responseDefinition;
        fullDuplex = req.fullDuplex;
        setMetadata(ctx, def);
        responses.push(...(def?.responseData ?? []));
      }
      received.push(pack(schema, req));
      if (!fullDuplex) continue;
      // Full duplex: one response per request; a request with none left to answer gets the error.
      if (responses.length > 0) yield await response(sent === 0 ? [...received] : [received.at(-1) as Any]);
      else if (def?.error) throw toConnectError(def.error, sent === 0 ? requestInfo(ctx, received) : undefined);
    }
    if (!fullDuplex) {
      // Half duplex: every request first, then every response; the first echoes all requests.
      while (responses.length > 0) yield await response(sent === 0 ? received : []);
    }
    if (def?.error) throw toConnectError(def.error, sent === 0 ? requestInfo(ctx, received) : undefined);
  },

  unimplemented() {
    throw new ConnectError("ConformanceService.Unimplemented is not implemented", Code.Unimplemented);
  },
};
