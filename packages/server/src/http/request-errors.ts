import type { DescField, DescMessage, DescOneof } from "@bufbuild/protobuf";
import { isFieldError } from "@bufbuild/protobuf/reflect";
import { base64Decode } from "@bufbuild/protobuf/wire";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { ErrorDetailSchema, ErrorReasons } from "@open-vcluster/api";
import { apiError, boundMessage, MAX_ERROR_MESSAGE_CHARS } from "../errors.js";
import type { FieldViolation } from "../validation/field-violation.js";
import { invalidArgument } from "../validation/invalid-argument.js";

/**
 * connect-es decodes a request before any interceptor runs, and it reports several mistakes of
 * the caller with codes that blame the server: bytes that are not the RPC's message and strings
 * that are not UTF-8 ("parse binary: ...") and a frame flagged compressed without a negotiated
 * encoding come out INTERNAL, a unary call with zero or two messages UNIMPLEMENTED (a Connect GET
 * whose `message` is not base64 is caught by `checkGetQuery` first). Its own INVALID_ARGUMENT
 * and RESOURCE_EXHAUSTED errors (broken frames, invalid JSON, readMaxBytes) carry no ErrorDetail.
 *
 * `refineRequestError` turns each of these into the error the API documents: INVALID_ARGUMENT
 * with reason MALFORMED_REQUEST (naming the field when the decoder knows it), or
 * RESOURCE_EXHAUSTED with an ErrorDetail, and bounds every message. It changes the error in place,
 * because connect keeps its own reference to the error it serializes (see `watchRequestErrors`).
 */
export function refineRequestError(error: ConnectError, input: DescMessage): void {
  // ErrorDetail and its reasons are this API's contract; a service of another package mounted on
  // the same transport (the conformance suite's) keeps connect's errors as they are.
  const replacement = input.file.proto.package === API_PACKAGE ? callerMistake(error, input) : undefined;
  if (replacement) {
    replace(error, replacement);
  } else if (error.rawMessage.length > MAX_ERROR_MESSAGE_CHARS) {
    const bounded = new ConnectError(boundMessage(error.rawMessage), error.code);
    Object.assign(error, { rawMessage: bounded.rawMessage, message: bounded.message });
  }
}

const API_PACKAGE = ErrorDetailSchema.file.proto.package;

function callerMistake(error: ConnectError, input: DescMessage): ConnectError | undefined {
  const message = error.rawMessage;
  if (error.findDetails(ErrorDetailSchema).length > 0) return undefined;
  if (error.code === Code.Internal && message.startsWith("parse binary: ")) {
    const problem = message.slice("parse binary: ".length);
    return /utf-8/i.test(problem)
      ? malformed(`a string field of ${input.typeName} is not valid UTF-8 (${problem})`)
      : malformed(`the request is not a valid ${input.typeName} in the protobuf binary format (${problem})`);
  }
  if (error.code === Code.Internal && message.startsWith("received compressed envelope")) {
    return malformed("a message is flagged as compressed, but the request negotiated no compression");
  }
  if (error.code === Code.Unimplemented && /^protocol error: (missing|received extra) input message/.test(message)) {
    return malformed("a unary or server-streaming call takes exactly one request message");
  }
  if (error.code === Code.InvalidArgument) {
    if (/not valid for encoding utf-8/i.test(message)) return malformed("the request body is not valid UTF-8");
    const violation = decodedField(error, input);
    if (violation) return invalidArgument([violation]);
    return malformed(message);
  }
  if (error.code === Code.ResourceExhausted) {
    return apiError(Code.ResourceExhausted, ErrorReasons.resourceExhausted, message);
  }
  return undefined;
}

function malformed(message: string): ConnectError {
  return apiError(Code.InvalidArgument, ErrorReasons.malformedRequest, message);
}

/**
 * connect decodes the `message` query parameter of a Connect GET with a base64 decoder whose
 * exception it answers as INTERNAL, so the request gate checks the encoding first.
 */
export function checkGetQuery(ctx: HandlerContext): void {
  if (ctx.requestMethod !== "GET") return;
  const query = new URL(ctx.url).searchParams;
  if (query.get("base64") !== "1") return;
  try {
    base64Decode(query.get("message") ?? "");
  } catch {
    throw malformed("the message query parameter of a GET request is not valid base64 (base64=1)");
  }
}

/** The request field a JSON decoding error is about, as a path from the request message. */
function decodedField(error: ConnectError, input: DescMessage): FieldViolation | undefined {
  const message = error.rawMessage;
  const unknownKey = /^cannot decode message (\S+) from JSON: key "(.*)" is unknown$/s.exec(message);
  if (unknownKey) {
    const [, typeName = "", key = ""] = unknownKey;
    const prefix = pathWhere(input, (m) => m.typeName === typeName);
    if (prefix === undefined) return undefined;
    return { field: `${prefix}${key}`, description: `is not a field of ${typeName}` };
  }
  const unknownEnum = /^cannot decode enum (\S+) from JSON: (.*)$/s.exec(message);
  if (unknownEnum) {
    const [, enumName = "", value = ""] = unknownEnum;
    let field: string | undefined;
    pathWhere(input, (m, prefix) => {
      const match = m.fields.find((f) => f.enum?.typeName === enumName);
      if (match) field = `${prefix}${match.name}`;
      return match !== undefined;
    });
    return field === undefined ? undefined : { field, description: `${value} is not a value of ${enumName}` };
  }
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
    if (isFieldError(cause)) return { field: pathTo(input, cause.field()), description: cause.message };
    cause = cause.cause;
  }
  return undefined;
}

/** The request field of a decoder's field error, as a path of field names. */
function pathTo(root: DescMessage, target: DescField | DescOneof): string {
  const prefix = pathWhere(root, (m) => m.typeName === target.parent.typeName);
  return prefix === undefined ? `${target.parent.typeName}.${target.name}` : `${prefix}${target.name}`;
}

/**
 * Breadth-first over the request's message fields: the path prefix ("", "spec.", ...) of the
 * first message that satisfies `test`, or undefined.
 */
function pathWhere(root: DescMessage, test: (message: DescMessage, prefix: string) => boolean): string | undefined {
  const queue: [DescMessage, string][] = [[root, ""]];
  const seen = new Set<string>();
  for (let next = queue.shift(); next; next = queue.shift()) {
    const [message, prefix] = next;
    if (seen.has(message.typeName)) continue;
    seen.add(message.typeName);
    if (test(message, prefix)) return prefix;
    for (const field of message.fields) {
      if (field.message) queue.push([field.message, `${prefix}${field.name}.`]);
    }
  }
  return undefined;
}

function replace(target: ConnectError, source: ConnectError): void {
  Object.assign(target, {
    code: source.code,
    rawMessage: source.rawMessage,
    message: source.message,
    details: source.details,
  });
}
