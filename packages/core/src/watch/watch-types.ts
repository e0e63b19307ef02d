import type { VCluster, WatchEventType } from "@open-vcluster/api";

/** Connection state of a resumable watch, for status indicators and health checks. */
export type ConnectionStatus = "connecting" | "connected" | "reconnecting" | "closed";

/** One change delivered by a watch (heartbeats are consumed internally and never surface). */
export interface WatchEvent {
  type: WatchEventType.ADDED | WatchEventType.MODIFIED | WatchEventType.DELETED;
  /** The object after the change; for DELETED its final state. */
  vcluster: VCluster;
  resourceVersion: string;
}
