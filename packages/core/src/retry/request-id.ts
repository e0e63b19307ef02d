import type { DescMessage } from "@bufbuild/protobuf";

const requestIdField = "request_id";

/** Whether the method's request carries an idempotency key the SDK can fill. */
export function hasRequestId(input: DescMessage): boolean {
  return input.fields.some((f) => f.name === requestIdField && f.fieldKind === "scalar");
}

/**
 * Returns the message with `request_id` set to a fresh UUIDv4 unless the caller chose one.
 * Called once per logical call, so every attempt carries the same key and the server can
 * answer a repeated attempt with the first one's response.
 */
export function withRequestId<T extends object>(input: DescMessage, message: T): T {
  const field = input.fields.find((f) => f.name === requestIdField);
  if (!field) return message;
  const current = (message as Record<string, unknown>)[field.localName];
  if (typeof current === "string" && current !== "") return message;
  return { ...message, [field.localName]: crypto.randomUUID() };
}
