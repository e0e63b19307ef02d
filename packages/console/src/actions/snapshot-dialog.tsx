import type { VCluster } from "@open-vcluster/api";
import { useState } from "preact/hooks";
import { useClient } from "../state/client-context.js";
import { useAction } from "../state/use-action.js";
import { Dialog } from "../ui/dialog.js";
import { Field } from "../ui/field.js";
import { errorFor, FormError } from "../ui/form-error.js";

export function SnapshotDialog(props: { vcluster: VCluster; onClose: () => void }) {
  const { vcluster } = props;
  const client = useClient();
  const action = useAction({ errorShownInline: true });
  const [form, setForm] = useState({ snapshotName: "", description: "", retentionHours: "0" });
  const set = (key: keyof typeof form) => (event: Event) =>
    setForm({ ...form, [key]: (event.currentTarget as HTMLInputElement).value });
  const target = `${vcluster.namespace}/${vcluster.name}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(`Snapshotting ${target}…`, `Snapshot of ${target} started`, () =>
      client.vclusters.snapshotVCluster({
        name: vcluster.name,
        namespace: vcluster.namespace,
        snapshotName: form.snapshotName.trim(),
        description: form.description.trim(),
        retentionHours: Number(form.retentionHours) || 0,
      }),
    );
    if (ok) props.onClose();
  };
  const error = action.error;
  const fields = ["snapshot_name", "description", "retention_hours"];
  return (
    <Dialog title={`Snapshot ${vcluster.name}`} onClose={props.onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <p>Captures the backing store and configuration (not volume data) while the vcluster keeps running.</p>
        <FormError error={error} formFields={fields} />
        <Field label="Snapshot name" hint="Empty for a generated name" error={errorFor(error, "snapshot_name")}>
          <input name="snapshotName" value={form.snapshotName} onInput={set("snapshotName")} />
        </Field>
        <Field label="Description" error={errorFor(error, "description")}>
          <input name="description" value={form.description} onInput={set("description")} />
        </Field>
        <Field label="Keep for (hours)" hint="0 keeps it until deleted" error={errorFor(error, "retention_hours")}>
          <input
            name="retentionHours"
            type="number"
            min="0"
            value={form.retentionHours}
            onInput={set("retentionHours")}
          />
        </Field>
        <footer class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={action.pending}>
            {action.pending ? "Starting…" : "Take snapshot"}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
