import { quote } from "./field-violation.js";
/** A string that is not a Kubernetes quantity. */
export class QuantityError extends Error {
  override readonly name = "QuantityError";
}

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+|[numkMGTPE])?$/;
const MAX_QUANTITY_LENGTH = 64;
/**
 * Kubernetes quantities may not exceed 2^63-1 in magnitude (resource.Quantity keeps them in an
 * int64). A double cannot hold 2^63-1 exactly; 2^63 is the first value beyond the bound.
 */
export const MAX_QUANTITY = 2 ** 63;

const BINARY_EXPONENTS: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_EXPONENTS: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * Parses a Kubernetes quantity ("250m", "1.5Gi", "1e3") into base units: cores for CPU, bytes for
 * memory and storage.
 */
export function parseQuantity(text: string): number {
  const match = text.length <= MAX_QUANTITY_LENGTH ? QUANTITY.exec(text) : null;
  if (!match) {
    throw new QuantityError(
      `invalid quantity ${quote(text)}: expected a number with an optional suffix (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei) or exponent, e.g. "500m", "1.5Gi" or "1e3"`,
    );
  }
  const [, sign = "", digits = "", suffix = ""] = match;
  let value: number;
  const binary = BINARY_EXPONENTS[suffix];
  if (binary !== undefined) {
    value = Number(`${sign}${digits}`) * 2 ** binary;
  } else {
    // Shifting the decimal exponent inside the literal keeps "250m" exactly 0.25, not 0.25000000000000006.
    const exponent = DECIMAL_EXPONENTS[suffix] ?? Number(suffix.slice(1));
    value = Number(`${sign}${digits}e${exponent}`);
  }
  if (!Number.isFinite(value) || Math.abs(value) >= MAX_QUANTITY) {
    throw new QuantityError(
      `invalid quantity ${quote(text)}: too large (Kubernetes quantities must be below 2^63, about 8Ei bytes)`,
    );
  }
  return value === 0 ? 0 : value;
}

const BINARY_SUFFIXES: [string, number][] = [
  ["Ei", 2 ** 60],
  ["Pi", 2 ** 50],
  ["Ti", 2 ** 40],
  ["Gi", 2 ** 30],
  ["Mi", 2 ** 20],
  ["Ki", 2 ** 10],
];

/**
 * Formats base units the way people write them: CPU in whole cores or millicores ("2", "250m"; finer
 * amounts round up to 1m as Kubernetes does), bytes with the largest exact binary suffix ("2Gi", "1536Mi").
 */
export function formatQuantity(value: number, kind: "cpu" | "bytes"): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot format ${value} as a quantity`);
  if (value < 0) return `-${formatQuantity(-value, kind)}`;
  if (kind === "cpu") {
    const millis = Math.max(Math.round(value * 1000), value > 0 ? 1 : 0);
    return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
  }
  const bytes = Math.round(value);
  for (const [suffix, size] of BINARY_SUFFIXES) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}
