import { create, type DescMessage, type DescMethod, type DescService, toBinary } from "@bufbuild/protobuf";
import { base64Encode } from "@bufbuild/protobuf/wire";
import { Code } from "@connectrpc/connect";
import { SnapshotService, VClusterService } from "@open-vcluster/api";
import { envelope, type WireProtocol, type WireRequest } from "./wire.js";

/**
 * Malformed requests, generated per RPC × malformation × protocol and codec rather than written
 * by hand. Each case says which code the API documents for it.
 */
export interface MalformedCase {
  /** "ListVClusters · grpc+json · unknown JSON field" */
  name: string;
  method: DescMethod;
  protocol: WireProtocol;
  request: WireRequest;
  code: Code;
  /** The ErrorDetail reason the answer must carry. */
  reasons: readonly string[];
}

export const SERVICES: readonly DescService[] = [VClusterService, SnapshotService];
export const METHODS: readonly DescMethod[] = SERVICES.flatMap((s) => s.methods);

/** Large enough to break any name or id limit, small enough to keep 300+ requests quick. */
const OVERSIZED_CHARS = 70_000;
const MALFORMED = ["MALFORMED_REQUEST"];
const FIELD = ["INVALID_FIELD"];
const EITHER = ["MALFORMED_REQUEST", "INVALID_FIELD"];

type Codec = "proto" | "json";
type Transport = "connect" | "grpc" | "grpc-web";

const utf8 = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
};

function varint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return bytes;
}

/** The first string field of the request: every RPC has one (a name, namespace or id). */
function firstStringField(input: DescMessage) {
  const field = input.fields.find((f) => f.fieldKind === "scalar" && f.scalar === 9);
  if (!field) throw new Error(`${input.typeName} has no string field`);
  return field;
}

interface BodyKind {
  name: string;
  body: (input: DescMessage) => Uint8Array;
  code: Code;
  reasons: readonly string[];
}

const BINARY_BODIES: BodyKind[] = [
  {
    name: "garbage bytes ff ff ff ff",
    body: () => new Uint8Array([0xff, 0xff, 0xff, 0xff]),
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
  {
    name: "invalid UTF-8 in a string field",
    body: (input) => new Uint8Array([(firstStringField(input).number << 3) | 2, 2, 0xc3, 0x28]),
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
  {
    name: "length-delimited field longer than the message",
    body: (input) => new Uint8Array([(firstStringField(input).number << 3) | 2, 100, 0x61, 0x62]),
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
  {
    name: "field number 0",
    body: () => new Uint8Array([0x02, 0x01, 0x61]),
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
  {
    name: `a ${OVERSIZED_CHARS}-character string field`,
    body: (input) =>
      new Uint8Array([
        (firstStringField(input).number << 3) | 2,
        ...varint(OVERSIZED_CHARS),
        ...utf8("a".repeat(OVERSIZED_CHARS)),
      ]),
    code: Code.InvalidArgument,
    reasons: FIELD,
  },
];

const JSON_BODIES: BodyKind[] = [
  { name: "not JSON", body: () => utf8('{"name":'), code: Code.InvalidArgument, reasons: MALFORMED },
  { name: "a JSON array", body: () => utf8("[]"), code: Code.InvalidArgument, reasons: MALFORMED },
  {
    name: "invalid UTF-8 in a JSON string",
    body: (input) => concat(utf8(`{"${firstStringField(input).jsonName}":"`), new Uint8Array([0xc3, 0x28]), utf8('"}')),
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
  { name: "unknown JSON field", body: () => utf8('{"noSuchField":1}'), code: Code.InvalidArgument, reasons: FIELD },
  {
    name: "number for a string field",
    body: (input) => utf8(`{"${firstStringField(input).jsonName}":42}`),
    code: Code.InvalidArgument,
    reasons: FIELD,
  },
  {
    name: "duplicate JSON key",
    body: (input) => {
      const key = firstStringField(input).jsonName;
      return utf8(`{"${key}":"a","${key}":"b"}`);
    },
    code: Code.InvalidArgument,
    reasons: EITHER,
  },
  {
    name: `a ${OVERSIZED_CHARS}-character string field`,
    body: (input) => utf8(`{"${firstStringField(input).jsonName}":"${"a".repeat(OVERSIZED_CHARS)}"}`),
    code: Code.InvalidArgument,
    reasons: FIELD,
  },
];

interface FrameKind {
  name: string;
  body: (valid: Uint8Array) => Uint8Array;
  headers?: Record<string, string>;
  code: Code;
  reasons: readonly string[];
}

/** Broken framing of an otherwise valid (empty) request message. */
const FRAME_KINDS: FrameKind[] = [
  { name: "no message", body: () => new Uint8Array(), code: Code.InvalidArgument, reasons: MALFORMED },
  {
    name: "two messages",
    body: (m) => concat(envelope(m), envelope(m)),
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
  {
    name: "truncated frame header",
    body: () => new Uint8Array([0, 0, 0]),
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
  {
    name: "frame longer than the body",
    body: (m) => envelope(m, 0, m.length + 64),
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
  {
    name: "frame above the size limit",
    body: (m) => envelope(m, 0, 0x7fff_ffff),
    code: Code.ResourceExhausted,
    reasons: ["RESOURCE_EXHAUSTED"],
  },
  {
    name: "compressed flag without a negotiated encoding",
    body: (m) => envelope(m, 1),
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
  {
    name: "gzip encoding over bytes that are not gzip",
    body: () => envelope(new Uint8Array([1, 2, 3, 4]), 1),
    headers: { "grpc-encoding": "gzip", "connect-content-encoding": "gzip" },
    code: Code.InvalidArgument,
    reasons: MALFORMED,
  },
];

function contentType(transport: Transport, codec: Codec, streaming: boolean): string {
  if (transport === "grpc") return `application/grpc+${codec}`;
  if (transport === "grpc-web") return `application/grpc-web+${codec}`;
  if (streaming) return `application/connect+${codec}`;
  return codec === "proto" ? "application/proto" : "application/json";
}

function wireProtocol(transport: Transport, codec: Codec): WireProtocol {
  return transport === "connect" ? (codec === "proto" ? "connect-proto" : "connect-json") : transport;
}

export function malformedCases(): MalformedCase[] {
  const cases: MalformedCase[] = [];
  for (const method of METHODS) {
    const path = `/${method.parent.typeName}/${method.name}`;
    const streaming = method.methodKind !== "unary";
    const enveloped = (t: Transport) => t !== "connect" || streaming;
    const add = (
      label: string,
      t: Transport,
      codec: Codec,
      kind: Omit<MalformedCase, "name" | "method" | "protocol">,
    ) =>
      cases.push({
        name: `${method.name} · ${t}+${codec} · ${label}`,
        method,
        protocol: wireProtocol(t, codec),
        ...kind,
      });
    for (const t of ["connect", "grpc", "grpc-web"] as const) {
      for (const codec of ["proto", "json"] as const) {
        const headers = { "content-type": contentType(t, codec, streaming) };
        for (const kind of codec === "proto" ? BINARY_BODIES : JSON_BODIES) {
          const payload = kind.body(method.input);
          add(kind.name, t, codec, {
            request: { path, headers, body: enveloped(t) ? envelope(payload) : payload },
            code: kind.code,
            reasons: kind.reasons,
          });
        }
        if (!enveloped(t)) continue;
        const valid = codec === "proto" ? toBinary(method.input, create(method.input)) : utf8("{}");
        for (const kind of FRAME_KINDS) {
          add(kind.name, t, codec, {
            request: { path, headers: { ...headers, ...kind.headers }, body: kind.body(valid) },
            code: kind.code,
            reasons: kind.reasons,
          });
        }
      }
    }
    if (!streaming) {
      // Connect unary: a body that claims gzip but is not, and for side-effect-free RPCs, GET.
      add("gzip content-encoding over bytes that are not gzip", "connect", "proto", {
        request: {
          path,
          headers: { "content-type": "application/proto", "content-encoding": "gzip" },
          body: new Uint8Array([1, 2, 3]),
        },
        code: Code.InvalidArgument,
        reasons: MALFORMED,
      });
    }
    if (method.idempotency === 1 /* NO_SIDE_EFFECTS */) {
      const get = (label: string, codec: Codec, query: string, reasons: readonly string[]) =>
        add(`GET ${label}`, "connect", codec, {
          request: { path, body: new Uint8Array(), query: `connect=v1&${query}` },
          code: Code.InvalidArgument,
          reasons,
        });
      get("message that is not base64", "proto", "encoding=proto&base64=1&message=%25%25%25%25", MALFORMED);
      get(
        "base64 of garbage bytes",
        "proto",
        `encoding=proto&base64=1&message=${encodeURIComponent(base64Encode(new Uint8Array([0xff, 0xff, 0xff, 0xff])))}`,
        MALFORMED,
      );
      get("message that is not JSON", "json", `encoding=json&message=${encodeURIComponent('{"name":')}`, MALFORMED);
      get("unknown JSON field", "json", `encoding=json&message=${encodeURIComponent('{"noSuchField":1}')}`, FIELD);
    }
  }
  return cases;
}
