/** The seconds and nanos of a protobuf Timestamp, without depending on the runtime's helpers. */
export interface TimestampLike {
  seconds: bigint;
  nanos: number;
}

export function toDate(timestamp: TimestampLike | undefined): Date | undefined {
  if (!timestamp) return undefined;
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1_000_000));
}

/** Kubernetes-style short age: "45s", "12m", "3h", "5d". */
export function formatAge(since: Date | undefined, now: number): string {
  if (!since) return "—";
  const seconds = Math.max(0, Math.floor((now - since.getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

export function formatDateTime(date: Date | undefined): string {
  if (!date) return "—";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function formatBytes(bytes: bigint | number): string {
  const value = Number(bytes);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let scaled = value;
  let unit = 0;
  while (scaled >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? scaled : scaled.toFixed(1)} ${units[unit]}`;
}
