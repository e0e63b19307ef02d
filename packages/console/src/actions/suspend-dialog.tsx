import type { VCluster } from "@open-vcluster/api";
import { useState } from "preact/hooks";
import { useClient } from "../state/client-context.js";
import { useAction } from "../state/use-action.js";
import { Dialog } from "../ui/dialog.js";
import { Field } from "../ui/field.js";
import { errorFor, FormError } from "../ui/form-error.js";

export function SuspendDialog(props: { vcluster: VCluster; onClose: () => void }) {
  const { vcluster } = props;
  const client = useClient();
  const action = useAction({ errorShownInline: true });
  const [createSnapshot, setCreateSnapshot] = useState(false);
  const [snapshotName, setSnapshotName] = useState("");
  const target = `${vcluster.namespace}/${vcluster.name}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(`Suspending ${target}…`, `${target} is being suspended`, () =>
      client.vclusters.suspendVCluster({
        name: vcluster.name,
        namespace: vcluster.namespace,
        createSnapshot,
        snapshotName: createSnapshot ? snapshotName.trim() : "",
      }),
    );
    if (ok) props.onClose();
  };
  const nameError = errorFor(action.error, "snapshot_name");
  return (
    <Dialog title={`Suspend ${vcluster.name}`} onClose={props.onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <p>
          The control plane scales to zero, like powering off a VM. Workloads stop until the vcluster is resumed; its
          state is kept.
        </p>
        <FormError error={action.error} formFields={["snapshot_name"]} />
        <label class="checkbox">
          <input
            type="checkbox"
            name="createSnapshot"
            checked={createSnapshot}
            onChange={(e) => setCreateSnapshot(e.currentTarget.checked)}
          />
          Take a snapshot first
        </label>
        {createSnapshot ? (
          <Field label="Snapshot name" hint="Empty for a generated name" error={nameError}>
            <input name="snapshotName" value={snapshotName} onInput={(e) => setSnapshotName(e.currentTarget.value)} />
          </Field>
        ) : null}
        <footer class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={action.pending}>
            {action.pending ? "Suspending…" : "Suspend"}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
