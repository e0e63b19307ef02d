import type { VCluster } from "@open-vcluster/api";
import { useState } from "preact/hooks";
import { useClient } from "../state/client-context.js";
import { useAction } from "../state/use-action.js";
import { Dialog } from "../ui/dialog.js";
import { Field } from "../ui/field.js";
import { errorFor, FormError } from "../ui/form-error.js";

/** Deleting cannot be undone, so the user types the name, as cloud consoles ask. */
export function DeleteDialog(props: { vcluster: VCluster; onClose: () => void; onDeleted: () => void }) {
  const { vcluster } = props;
  const client = useClient();
  const action = useAction({ errorShownInline: true });
  const [typed, setTyped] = useState("");
  const [deleteSnapshots, setDeleteSnapshots] = useState(false);
  const [gracePeriod, setGracePeriod] = useState("");
  const target = `${vcluster.namespace}/${vcluster.name}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(`Deleting ${target}…`, `${target} is being deleted`, () =>
      client.vclusters.deleteVCluster({
        name: vcluster.name,
        namespace: vcluster.namespace,
        deleteSnapshots,
        gracePeriodSeconds: Number(gracePeriod) || 0,
      }),
    );
    if (ok) props.onDeleted();
  };
  return (
    <Dialog title={`Delete ${vcluster.name}`} onClose={props.onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <p class="warning">
          This deletes the virtual cluster <strong>{target}</strong> and everything running in it. It cannot be undone.
        </p>
        <FormError error={action.error} formFields={["grace_period_seconds"]} />
        <label class="checkbox">
          <input
            type="checkbox"
            checked={deleteSnapshots}
            onChange={(e) => setDeleteSnapshots(e.currentTarget.checked)}
          />
          Also delete its snapshots
        </label>
        <Field
          label="Grace period (seconds)"
          hint="Time workloads get to stop; empty for the server's default"
          error={errorFor(action.error, "grace_period_seconds")}
        >
          <input
            name="gracePeriodSeconds"
            type="number"
            min="0"
            value={gracePeriod}
            onInput={(e) => setGracePeriod(e.currentTarget.value)}
          />
        </Field>
        <Field label={`Type ${vcluster.name} to confirm`}>
          <input name="confirmName" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoComplete="off" />
        </Field>
        <footer class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-danger" disabled={typed !== vcluster.name || action.pending}>
            {action.pending ? "Deleting…" : "Delete"}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
