import { type Snapshot, SnapshotStatus, type VCluster } from "@open-vcluster/api";
import { useState } from "preact/hooks";
import { formatDateTime, toDate } from "../format/time.js";
import { detailPath, navigate } from "../routing/route.js";
import { useClient } from "../state/client-context.js";
import { useAction } from "../state/use-action.js";
import { Dialog } from "../ui/dialog.js";
import { Field } from "../ui/field.js";
import { errorFor, FormError } from "../ui/form-error.js";

export function RestoreDialog(props: { vcluster: VCluster; snapshots: Snapshot[]; onClose: () => void }) {
  const { vcluster } = props;
  const client = useClient();
  const action = useAction({ errorShownInline: true });
  const ready = props.snapshots.filter((s) => s.status === SnapshotStatus.READY);
  const [snapshotId, setSnapshotId] = useState(ready[0]?.id ?? "");
  const [createNew, setCreateNew] = useState(false);
  const [newName, setNewName] = useState("");
  const target = `${vcluster.namespace}/${vcluster.name}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    const into = createNew ? `${vcluster.namespace}/${newName.trim()}` : target;
    const ok = await action.run(`Restoring ${into}…`, `Restore of ${into} started`, () =>
      client.vclusters.restoreVCluster({
        name: vcluster.name,
        namespace: vcluster.namespace,
        snapshotId,
        createNew,
        newName: createNew ? newName.trim() : "",
      }),
    );
    if (!ok) return;
    props.onClose();
    if (createNew) navigate(detailPath(vcluster.namespace, newName.trim()));
  };
  const error = action.error;
  return (
    <Dialog title={`Restore ${vcluster.name}`} onClose={props.onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <FormError error={error} formFields={["snapshot_id", "new_name"]} />
        {ready.length === 0 ? (
          <p class="muted">This vcluster has no ready snapshot to restore from.</p>
        ) : (
          <Field label="Snapshot" error={errorFor(error, "snapshot_id")}>
            <select name="snapshotId" value={snapshotId} onChange={(e) => setSnapshotId(e.currentTarget.value)}>
              {ready.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} — {formatDateTime(toDate(s.createTime))}
                </option>
              ))}
            </select>
          </Field>
        )}
        <label class="checkbox">
          <input type="checkbox" checked={createNew} onChange={(e) => setCreateNew(e.currentTarget.checked)} />
          Restore into a new vcluster instead of overwriting this one
        </label>
        {createNew ? (
          <Field label="New vcluster name" error={errorFor(error, "new_name")}>
            <input name="newName" value={newName} onInput={(e) => setNewName(e.currentTarget.value)} />
          </Field>
        ) : (
          <p class="warning">The current state of {vcluster.name} is replaced by the snapshot's.</p>
        )}
        <footer class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={action.pending || ready.length === 0}>
            {action.pending ? "Restoring…" : "Restore"}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
