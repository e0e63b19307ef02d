import { Phase, type VCluster } from "@open-vcluster/api";
import { useState } from "preact/hooks";
import { describeError } from "../api/describe-error.js";
import { useClient } from "../state/client-context.js";
import { useNotifier } from "../state/notifications.js";
import { Dialog } from "../ui/dialog.js";

type Verb = "suspend" | "resume" | "delete";

const ELIGIBLE: Record<Verb, (v: VCluster) => boolean> = {
  suspend: (v) => v.status?.phase === Phase.RUNNING,
  resume: (v) => v.status?.phase === Phase.SUSPENDED,
  delete: (v) => [Phase.RUNNING, Phase.SUSPENDED, Phase.ERROR, Phase.PENDING].includes(v.status?.phase ?? 0),
};

const PAST: Record<Verb, string> = { suspend: "suspending", resume: "resuming", delete: "being deleted" };

function plural(count: number): string {
  return `${count} vcluster${count === 1 ? "" : "s"}`;
}

/**
 * Actions on the selected rows. Each button acts on the selected vclusters whose phase allows
 * it (and says how many); the calls run together, and a failure names the vcluster and reason.
 */
export function BulkActions(props: { selected: VCluster[]; onClear: () => void }) {
  const client = useClient();
  const notifier = useNotifier();
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const [pending, setPending] = useState(false);

  const run = async (verb: Verb) => {
    const targets = props.selected.filter(ELIGIBLE[verb]);
    const call = (v: VCluster) => {
      const ref = { name: v.name, namespace: v.namespace };
      if (verb === "suspend") return client.vclusters.suspendVCluster(ref);
      if (verb === "resume") return client.vclusters.resumeVCluster(ref);
      return client.vclusters.deleteVCluster(ref);
    };
    setPending(true);
    try {
      await notifier.track(
        `${verb[0]?.toUpperCase()}${verb.slice(1)} ${plural(targets.length)}…`,
        `${plural(targets.length)} ${PAST[verb]}`,
        async () => {
          const results = await Promise.allSettled(targets.map(call));
          const failed = results.flatMap((r, i) =>
            r.status === "rejected" ? [`${targets[i]?.name}: ${describeError(r.reason).message}`] : [],
          );
          if (failed.length > 0) {
            throw new Error(`${failed.length} of ${targets.length} refused — ${failed.join("; ")}`);
          }
        },
      );
      props.onClear();
    } catch {
      // The notice shows what failed; the selection stays so the user can retry.
    } finally {
      setPending(false);
    }
  };

  const count = (verb: Verb) => props.selected.filter(ELIGIBLE[verb]).length;
  const button = (verb: Verb, label: string, onClick: () => void, danger = false) => {
    const eligible = count(verb);
    return (
      <button
        type="button"
        class={danger ? "button button-danger" : "button"}
        disabled={pending || eligible === 0}
        title={eligible === 0 ? `None of the selected vclusters can ${verb} now` : undefined}
        onClick={onClick}
      >
        {label} ({eligible})
      </button>
    );
  };

  return (
    <section class="bulk-bar" aria-label="Selected vclusters" role="toolbar">
      <strong>{props.selected.length} selected</strong>
      {button("suspend", "Suspend", () => run("suspend"))}
      {button("resume", "Resume", () => run("resume"))}
      {button("delete", "Delete", () => setConfirmingDelete(true), true)}
      <button type="button" class="button bulk-clear" onClick={props.onClear}>
        Clear selection
      </button>
      {confirmingDelete ? (
        <Dialog title={`Delete ${plural(count("delete"))}`} onClose={() => setConfirmingDelete(false)}>
          <div class="form">
            <p class="warning">
              These virtual clusters and everything running in them will be deleted. It cannot be undone.
            </p>
            <ul class="bulk-list">
              {props.selected.filter(ELIGIBLE.delete).map((v) => (
                <li key={v.id}>
                  {v.namespace}/{v.name}
                </li>
              ))}
            </ul>
            <footer class="dialog-actions">
              <button type="button" class="button" onClick={() => setConfirmingDelete(false)}>
                Cancel
              </button>
              <button
                type="button"
                class="button button-danger"
                onClick={() => {
                  setConfirmingDelete(false);
                  void run("delete");
                }}
              >
                Delete {plural(count("delete"))}
              </button>
            </footer>
          </div>
        </Dialog>
      ) : null}
    </section>
  );
}
