import { create } from "@bufbuild/protobuf";
import { ConnectError, type HandlerContext } from "@connectrpc/connect";
import {
  type ListVClusterEventsRequest,
  type ListVClusterEventsResponse,
  ListVClusterEventsResponseSchema,
  type VCluster,
} from "@open-vcluster/api";
import type { Clock } from "../clock.js";
import { principalOf } from "../service/deps.js";
import { findVisibleVCluster, namespaceOrDefault } from "../service/lookup.js";
import type { StoreTx } from "../store/index.js";
import type { FieldViolation } from "../validation/index.js";
import { invalidArgument } from "../validation/index.js";
import { checkOptionalName, checkRequiredName } from "../validation/request-fields.js";
import { ActivityLog } from "./activity-log.js";
import { ActivityRecorder, type OperationVerb } from "./activity-recorder.js";

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** What a mutation's response says about the vcluster it started an operation on. */
interface MutationResponse {
  vcluster?: VCluster;
  operationId?: string;
}

/** The timeline of every vcluster: recorded around the mutations, read by ListVClusterEvents. */
export class Activity {
  readonly log = new ActivityLog();
  readonly recorder: ActivityRecorder;

  constructor(
    private readonly store: StoreTx,
    private readonly clock: Clock,
  ) {
    this.recorder = new ActivityRecorder(this.log, clock);
  }

  /**
   * Runs a mutation and records who asked and whether it was accepted; its end is recorded
   * when the store shows the vcluster settled.
   */
  track<Res extends MutationResponse>(
    verb: OperationVerb,
    req: { name: string; namespace: string },
    ctx: HandlerContext,
    call: () => Res | Promise<Res>,
  ): Res | Promise<Res> {
    const startedAt = this.clock.now();
    const actor = principalOf(ctx).subject;
    const namespace = namespaceOrDefault(req.namespace);
    const refused = (error: unknown): never => {
      const existing = req.name ? this.store.getVCluster(namespace, req.name) : undefined;
      if (existing) this.recorder.refused(verb, existing.id, actor, startedAt, ConnectError.from(error).rawMessage);
      throw error;
    };
    const accepted = (response: Res): Res => {
      // Restoring into a new vcluster answers with the new one; every other verb with the one named.
      const vcluster = response.vcluster?.id ? response.vcluster : this.store.getVCluster(namespace, req.name);
      if (vcluster) this.recorder.accepted(verb, vcluster, actor, startedAt, response.operationId ?? "");
      return response;
    };
    let result: Res | Promise<Res>;
    try {
      result = call();
    } catch (error) {
      return refused(error);
    }
    return result instanceof Promise ? result.then(accepted, refused) : accepted(result);
  }

  listEvents(req: ListVClusterEventsRequest, ctx: HandlerContext): ListVClusterEventsResponse {
    const violations: FieldViolation[] = [];
    checkRequiredName(req.name, "name", violations, 63);
    checkOptionalName(req.namespace, "namespace", violations);
    if (req.afterSequence < 0n) violations.push({ field: "after_sequence", description: "must not be negative" });
    if (req.limit < 0) violations.push({ field: "limit", description: `must not be negative (got ${req.limit})` });
    if (violations.length > 0) throw invalidArgument(violations);
    const vcluster = findVisibleVCluster(this.store, principalOf(ctx), req);
    const limit = Math.min(req.limit || DEFAULT_LIMIT, MAX_LIMIT);
    return create(ListVClusterEventsResponseSchema, {
      events: this.log.list(vcluster.id, req.afterSequence, limit),
      lastSequence: this.log.lastSequence(vcluster.id),
    });
  }
}
