import type { IncomingHttpHeaders } from "node:http";

const HEADERS = Headers.prototype;
const MUTATING_OR_LISTING = [
  "append",
  "set",
  "delete",
  "getSetCookie",
  "forEach",
  "entries",
  "keys",
  "values",
  Symbol.iterator,
] as const;

/**
 * A request's headers as the fetch API's Headers, which connect hands to interceptors and
 * handlers, filled from Node's header object only when something does more than read one:
 * `get` and `has` answer from Node's object (its names are lower case already); anything else
 * first copies every header in, as building the Headers up front would have. Building them
 * validates each header, which a call that reads two or three of them never needs.
 */
export function nodeRequestHeaders(node: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  const own = headers as unknown as Record<PropertyKey, unknown>;
  let pending: IncomingHttpHeaders | undefined = node;
  const copyIn = () => {
    const from = pending;
    if (from === undefined) return;
    pending = undefined;
    // From here on the Headers' own methods answer.
    for (const name of MUTATING_OR_LISTING) delete own[name];
    delete own.get;
    delete own.has;
    for (const key in from) {
      if (key.charCodeAt(0) === 0x3a) continue; // HTTP/2 pseudo-headers
      const value = from[key];
      if (typeof value === "string") headers.append(key, value);
      else if (Array.isArray(value)) for (const item of value) headers.append(key, item);
    }
  };
  const read = (name: string): string | null => {
    if (pending === undefined) return HEADERS.get.call(headers, name);
    const key = name.toLowerCase();
    if (key.charCodeAt(0) === 0x3a) return null;
    const value = pending[key];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(", ") : value;
  };
  own.get = read;
  own.has = (name: string) => read(name) !== null;
  for (const name of MUTATING_OR_LISTING) {
    const method = HEADERS[name] as (...args: unknown[]) => unknown;
    own[name] = (...args: unknown[]) => {
      copyIn();
      return method.apply(headers, args);
    };
  }
  return headers;
}

/** Headers as Node's header object, for writing a response (set-cookie stays a list). */
export function webHeadersToNode(headers: Headers): Record<string, string | string[]> {
  const node: Record<string, string | string[]> = {};
  for (const [key, value] of headers) node[key] = key === "set-cookie" ? headers.getSetCookie() : value;
  return node;
}
