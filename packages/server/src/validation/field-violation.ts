/** One invalid request field. `field` is a proto-field-name path relative to the request. */
export interface FieldViolation {
  field: string;
  description: string;
}

/** Longest part of a caller's value an error repeats back. */
export const MAX_ECHOED_CHARS = 64;

/**
 * A caller's value quoted for an error message, cut to MAX_ECHOED_CHARS so that an error never
 * grows with the input: a 1 MiB id must not come back as a 1 MiB error.
 */
export function quote(value: string): string {
  if (value.length <= MAX_ECHOED_CHARS) return JSON.stringify(value);
  // Only the head is split into code points (never a surrogate pair cut in two): the value may be huge.
  const head = Array.from(value.slice(0, MAX_ECHOED_CHARS * 2))
    .slice(0, MAX_ECHOED_CHARS)
    .join("");
  return `${JSON.stringify(head)}… (${value.length} characters)`;
}
