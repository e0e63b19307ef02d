import { createHash } from "node:crypto";
import { clone, toJson } from "@bufbuild/protobuf";
import { type CreateVClusterRequest, CreateVClusterRequestSchema } from "@open-vcluster/api";
import { canonicalJson } from "./page-token.js";

/** How long a request_id is remembered (AIP-155 asks for at least a day). */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Scoped per caller, so two tenants that pick the same request_id never collide. */
export function idempotencyKey(subject: string, requestId: string): string {
  return `create:${subject}:${requestId}`;
}

/**
 * Fingerprint of what the request asks for (everything but request_id). Canonical JSON with
 * sorted keys, so label maps given in another order still count as the same request.
 */
export function createFingerprint(req: CreateVClusterRequest): string {
  const copy = clone(CreateVClusterRequestSchema, req);
  copy.requestId = "";
  const json = toJson(CreateVClusterRequestSchema, copy);
  return createHash("sha256").update(canonicalJson(json)).digest("hex");
}
