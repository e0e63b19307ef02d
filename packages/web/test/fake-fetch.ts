import { type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";

/** What the transport asked fetch for, decoded enough to assert on. */
export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: Uint8Array | undefined;
}

type Responder = (request: RecordedRequest) => Response;

/** A fetch double: records every request and answers with the responder's Response. */
export function fakeFetch(respond: Responder): { fetch: typeof globalThis.fetch; requests: RecordedRequest[] } {
  const requests: RecordedRequest[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const raw = init?.body;
    const body = raw instanceof Uint8Array ? raw : typeof raw === "string" ? new TextEncoder().encode(raw) : undefined;
    const request = { method: init?.method ?? "GET", url, headers: new Headers(init?.headers), body };
    requests.push(request);
    return respond(request);
  };
  return { fetch, requests };
}

/** A unary Connect response carrying one binary message. */
export function connectUnary<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Response {
  return new Response(toBinary(schema, message), { status: 200, headers: { "content-type": "application/proto" } });
}

/** A Connect server-streaming response: the messages, then a successful end-of-stream frame. */
export function connectStream<Desc extends DescMessage>(schema: Desc, messages: MessageShape<Desc>[]): Response {
  const frames = messages.map((m) => frame(0, toBinary(schema, m)));
  frames.push(frame(0b10, new TextEncoder().encode("{}")));
  return new Response(concat(frames), { status: 200, headers: { "content-type": "application/connect+proto" } });
}

/** A gRPC-Web response: one message frame and a trailer frame with grpc-status 0. */
export function grpcWebUnary<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Response {
  const trailer = frame(0x80, new TextEncoder().encode("grpc-status: 0\r\n"));
  return new Response(concat([frame(0, toBinary(schema, message)), trailer]), {
    status: 200,
    headers: { "content-type": "application/grpc-web+proto" },
  });
}

function frame(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
