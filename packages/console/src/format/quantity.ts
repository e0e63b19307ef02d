import { formatBytes } from "./time.js";

/**
 * Usage figures arrive as Kubernetes quantities; byte counts without a suffix (as the server
 * reports memory and storage) are shown in binary units, anything else as sent.
 */
export function formatByteQuantity(quantity: string | undefined): string {
  if (!quantity) return "—";
  return /^\d+$/.test(quantity) ? formatBytes(Number(quantity)) : quantity;
}
