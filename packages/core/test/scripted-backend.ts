import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  Annotations,
  ErrorDetailSchema,
  ResponseHeaders,
  type VCluster,
  VClusterSchema,
  VClusterService,
  WatchEventType,
  type WatchVClusterResponse,
  WatchVClusterResponseSchema,
} from "@open-vcluster/api";

/** One expected call of a watch-recovery script (contract/vectors/watch-recovery.json). */
export type ScriptStep =
  | {
      call: "list";
      pageToken: string;
      items?: string[];
      nextPageToken?: string;
      resourceVersion?: string;
      error?: string;
    }
  | {
      call: "watch";
      resourceVersion: string;
      send: (
        | { type: "ADDED" | "MODIFIED" | "DELETED"; object: string }
        | { type: "HEARTBEAT"; resourceVersion: string }
      )[];
      end: string;
    };

/** `"<id> <namespace>/<name>@<resourceVersion>"` → a VCluster carrying that version. */
export function parseObject(text: string): VCluster {
  const match = /^(\S+) ([^/\s]+)\/([^@\s]+)@(\d+)$/.exec(text);
  if (!match) throw new Error(`bad object ${JSON.stringify(text)}`);
  const [, id, namespace, name, version] = match as unknown as [string, string, string, string, string];
  return create(VClusterSchema, { id, namespace, name, annotations: { [Annotations.resourceVersion]: version } });
}

export function formatObject(vcluster: VCluster): string {
  const version = vcluster.annotations[Annotations.resourceVersion] ?? "";
  return `${vcluster.id} ${vcluster.namespace}/${vcluster.name}@${version}`;
}

/** A code name from the vectors ("permission_denied") → the Connect code. */
export function codeOf(name: string): Code {
  const pascal = name.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase()) as keyof typeof Code;
  const code = Code[pascal];
  if (typeof code !== "number") throw new Error(`unknown code ${name}`);
  return code;
}

function endError(end: string): ConnectError {
  if (end === "disconnect") return new ConnectError("connection reset", Code.Unavailable);
  if (end === "expired") {
    const detail = create(ErrorDetailSchema, { reason: "RESOURCE_VERSION_EXPIRED" });
    return new ConnectError("too old", Code.OutOfRange, undefined, [{ desc: ErrorDetailSchema, value: detail }]);
  }
  return new ConnectError(`scripted ${end}`, codeOf(end));
}

/**
 * A VClusterService that answers List and Watch calls from a script, in order, and records
 * every call that differs from the script (answered with Unimplemented, which ends any watch).
 */
export class ScriptedBackend {
  private next = 0;
  readonly mismatches: string[] = [];
  /** True once the last step (a stream left open) is being served. */
  reachedEnd = false;

  constructor(private readonly steps: ScriptStep[]) {}

  private take(call: string, version: string): ScriptStep {
    const step = this.steps[this.next];
    const got = `${call} ${JSON.stringify(version)}`;
    const wanted =
      step === undefined
        ? "end of script"
        : `${step.call} ${JSON.stringify(step.call === "list" ? step.pageToken : step.resourceVersion)}`;
    if (got !== wanted) {
      this.mismatches.push(`call ${this.next + 1}: got ${got}, script expects ${wanted}`);
      throw new ConnectError(`unexpected call ${got}`, Code.Unimplemented);
    }
    this.next++;
    if (this.next === this.steps.length) this.reachedEnd = true;
    return step as ScriptStep;
  }

  routes = (router: ConnectRouter): void => {
    router.service(VClusterService, {
      listVClusters: (req, ctx) => {
        const step = this.take("list", req.pageToken);
        if (step.call !== "list") throw new Error("unreachable");
        if (step.error) throw new ConnectError("scripted failure", codeOf(step.error));
        if (step.resourceVersion) ctx.responseHeader.set(ResponseHeaders.resourceVersion, step.resourceVersion);
        const vclusters = (step.items ?? []).map(parseObject);
        return { vclusters, nextPageToken: step.nextPageToken ?? "", totalCount: vclusters.length };
      },
      watchVCluster: (req, ctx) => this.watch(req.resourceVersion, ctx.signal),
    });
  };

  private async *watch(resourceVersion: string, signal: AbortSignal): AsyncGenerator<WatchVClusterResponse> {
    const step = this.take("watch", resourceVersion);
    if (step.call !== "watch") throw new Error("unreachable");
    for (const message of step.send) {
      if (message.type === "HEARTBEAT") {
        yield create(WatchVClusterResponseSchema, {
          type: WatchEventType.UNSPECIFIED,
          vcluster: { annotations: { [Annotations.resourceVersion]: message.resourceVersion } },
        });
      } else {
        yield create(WatchVClusterResponseSchema, {
          type: WatchEventType[message.type],
          vcluster: parseObject(message.object),
        });
      }
    }
    if (step.end === "close") return;
    if (step.end !== "open") throw endError(step.end);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }
}
