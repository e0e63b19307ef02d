import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ConnectError, type HandlerContext } from "@connectrpc/connect";
import {
  type ListVClusterEventsRequest,
  type ListVClusterEventsResponse,
  ListVClusterEventsResponseSchema,
  type ListVClusterUsageRequest,
  type ListVClusterUsageResponse,
  ListVClusterUsageResponseSchema,
  UsageSampleSchema,
  type VClusterEvent,
  VClusterEventSchema,
} from "@open-vcluster/api";
import type { Clock } from "../clock.js";
import { principalOf } from "../service/deps.js";
import { findVisibleVCluster, namespaceOrDefault } from "../service/shared.js";
import type { HistoryEntry, HistoryKind, Store } from "../store/index.js";
import type { FieldViolation } from "../validation/index.js";
import { invalidArgument } from "../validation/index.js";
import { checkOptionalName, checkRequiredName } from "../validation/request-fields.js";
import { EVENTS_PER_VCLUSTER } from "./recording-store.js";
import { type OperationVerb, runAsRequest } from "./request-context.js";
import { refused } from "./timeline.js";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

interface HistoryRequest {
  name: string;
  namespace: string;
  afterSequence: bigint;
  limit: number;
}

/** The timeline and usage history of every vcluster: recorded around the mutations, read by two RPCs. */
export class Activity {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /**
   * Runs a mutation as a request: the store records who asked in the transaction that
   * accepts it. A refusal changed nothing, so it is recorded in a transaction of its own.
   */
  async track<Res>(
    verb: OperationVerb,
    req: { name: string; namespace: string },
    ctx: HandlerContext,
    call: () => Promise<Res>,
  ): Promise<Res> {
    const request = {
      verb,
      actor: principalOf(ctx).subject,
      startedAtMs: this.clock.now().getTime(),
      recorded: new Set<string>(),
    };
    try {
      return await runAsRequest(request, call);
    } catch (error) {
      await this.recordRefusal(request, req, error).catch(() => undefined);
      throw error;
    }
  }

  private async recordRefusal(
    request: { verb: OperationVerb; actor: string; startedAtMs: number; recorded: Set<string> },
    req: { name: string; namespace: string },
    error: unknown,
  ): Promise<void> {
    if (!req.name) return;
    await this.store.transaction(async (tx) => {
      const existing = await tx.getVCluster(namespaceOrDefault(req.namespace), req.name);
      // Accepted but failed later (a create that timed out waiting): its operation tells the rest.
      if (!existing || request.recorded.has(existing.id)) return;
      const nowMs = this.clock.now().getTime();
      const event = refused(
        request.verb,
        request.actor,
        request.startedAtMs,
        nowMs,
        ConnectError.from(error).rawMessage,
      );
      const data = create(VClusterEventSchema, event);
      await tx.appendHistory("event", existing.id, [{ timeMs: nowMs, data: toBinaryEvent(data) }], {
        keep: EVENTS_PER_VCLUSTER,
      });
    });
  }

  async listEvents(req: ListVClusterEventsRequest, ctx: HandlerContext): Promise<ListVClusterEventsResponse> {
    const { entries, lastSequence } = await this.history("event", req, ctx);
    return create(ListVClusterEventsResponseSchema, {
      events: entries.map((entry): VClusterEvent => {
        const event = fromBinary(VClusterEventSchema, entry.data);
        event.sequence = BigInt(entry.sequence);
        return event;
      }),
      lastSequence,
    });
  }

  async listUsage(req: ListVClusterUsageRequest, ctx: HandlerContext): Promise<ListVClusterUsageResponse> {
    const { entries, lastSequence } = await this.history("usage", req, ctx);
    return create(ListVClusterUsageResponseSchema, {
      samples: entries.map((entry) => {
        const sample = fromBinary(UsageSampleSchema, entry.data);
        sample.sequence = BigInt(entry.sequence);
        return sample;
      }),
      lastSequence,
    });
  }

  private async history(
    kind: HistoryKind,
    req: HistoryRequest,
    ctx: HandlerContext,
  ): Promise<{ entries: HistoryEntry[]; lastSequence: bigint }> {
    const violations: FieldViolation[] = [];
    checkRequiredName(req.name, "name", violations, 63);
    checkOptionalName(req.namespace, "namespace", violations);
    if (req.afterSequence < 0n) violations.push({ field: "after_sequence", description: "must not be negative" });
    if (req.afterSequence > BigInt(Number.MAX_SAFE_INTEGER)) {
      violations.push({ field: "after_sequence", description: `must be at most ${Number.MAX_SAFE_INTEGER}` });
    }
    if (req.limit < 0) violations.push({ field: "limit", description: `must not be negative (got ${req.limit})` });
    if (violations.length > 0) throw invalidArgument(violations);
    const limit = Math.min(req.limit || DEFAULT_LIMIT, MAX_LIMIT);
    return this.store.read(async (reader) => {
      const vcluster = await findVisibleVCluster(reader, principalOf(ctx), req);
      const entries = await reader.listHistory(kind, vcluster.id, Number(req.afterSequence), limit);
      const newest = entries.at(-1)?.sequence;
      return { entries, lastSequence: newest === undefined ? req.afterSequence : BigInt(newest) };
    });
  }
}

function toBinaryEvent(event: VClusterEvent): Uint8Array {
  return toBinary(VClusterEventSchema, event);
}
