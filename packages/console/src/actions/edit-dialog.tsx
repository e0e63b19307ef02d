import { Phase, type VCluster } from "@open-vcluster/api";
import { useState } from "preact/hooks";
import { useClient } from "../state/client-context.js";
import { useAction } from "../state/use-action.js";
import { Dialog } from "../ui/dialog.js";
import { Field } from "../ui/field.js";
import { errorFor, FormError } from "../ui/form-error.js";
import { type EditForm, editChanges, editFormOf, SPEC_PATHS } from "./edit-changes.js";

const FORM_FIELDS = ["labels", ...Object.values(SPEC_PATHS)];

/**
 * Edits labels, the Kubernetes version and control-plane resources through UpdateVCluster with
 * an explicit update_mask. Version rules (no downgrades, one minor at a time) are the server's;
 * its refusal is shown at the version field.
 */
export function EditDialog(props: { vcluster: VCluster; onClose: () => void }) {
  // The form compares against the vcluster as it was when the dialog opened.
  const [original] = useState(props.vcluster);
  const client = useClient();
  const action = useAction({ errorShownInline: true });
  const [form, setForm] = useState<EditForm>(() => editFormOf(original));
  const [labelError, setLabelError] = useState<string | undefined>(undefined);
  const set = (key: keyof EditForm) => (event: Event) =>
    setForm({ ...form, [key]: (event.currentTarget as HTMLInputElement).value });
  const phase = props.vcluster.status?.phase ?? Phase.UNSPECIFIED;
  // A suspended vcluster takes label changes only; spec changes need a running control plane.
  const specEditable = phase === Phase.RUNNING || phase === Phase.ERROR;
  const target = `${original.namespace}/${original.name}`;
  const changes = editChanges(original, form);
  const unchanged = "paths" in changes && changes.paths.length === 0;

  const submit = async (event: Event) => {
    event.preventDefault();
    if ("labelError" in changes) {
      setLabelError(changes.labelError);
      return;
    }
    setLabelError(undefined);
    if (changes.paths.length === 0) return;
    const [title, done] = changes.specChanged
      ? [`Updating ${target}…`, `Update of ${target} started`]
      : [`Saving labels of ${target}…`, `Labels of ${target} saved`];
    const ok = await action.run(title, done, () =>
      client.vclusters.updateVCluster({
        name: original.name,
        namespace: original.namespace,
        updateMask: { paths: changes.paths },
        labels: changes.labels,
        spec: changes.spec,
      }),
    );
    if (ok) props.onClose();
  };

  const error = action.error;
  const current = original.spec?.kubernetesVersion;
  return (
    <Dialog title={`Edit ${original.name}`} onClose={props.onClose} wide>
      <form class="form" onSubmit={submit} noValidate>
        <FormError error={error} formFields={FORM_FIELDS} />
        <Field
          label="Labels"
          hint="key=value, separated by commas or new lines; remove a line to remove the label"
          error={labelError ?? errorFor(error, "labels")}
        >
          <textarea name="labels" rows={3} value={form.labels} onInput={set("labels")} placeholder="env=dev" />
        </Field>
        {specEditable ? null : (
          <p class="muted">
            The Kubernetes version and resources can be changed while the vcluster is running; labels can be edited now.
          </p>
        )}
        <fieldset class="form-grid fieldset" disabled={!specEditable}>
          <div class="form-grid-full">
            <Field
              label="Kubernetes version"
              hint={`Currently ${current || "unknown"}. Upgrades go one minor version at a time; downgrades are refused.`}
              error={errorFor(error, SPEC_PATHS.kubernetesVersion)}
            >
              <input name="kubernetesVersion" value={form.kubernetesVersion} onInput={set("kubernetesVersion")} />
            </Field>
          </div>
          <Field
            label="CPU request"
            hint="Empty for the server's default"
            error={errorFor(error, SPEC_PATHS.cpuRequest)}
          >
            <input name="cpuRequest" value={form.cpuRequest} onInput={set("cpuRequest")} placeholder="200m" />
          </Field>
          <Field label="CPU limit" hint="Empty for no limit" error={errorFor(error, SPEC_PATHS.cpuLimit)}>
            <input name="cpuLimit" value={form.cpuLimit} onInput={set("cpuLimit")} />
          </Field>
          <Field
            label="Memory request"
            hint="Empty for the server's default"
            error={errorFor(error, SPEC_PATHS.memoryRequest)}
          >
            <input name="memoryRequest" value={form.memoryRequest} onInput={set("memoryRequest")} placeholder="256Mi" />
          </Field>
          <Field
            label="Memory limit"
            hint="Empty for the server's default"
            error={errorFor(error, SPEC_PATHS.memoryLimit)}
          >
            <input name="memoryLimit" value={form.memoryLimit} onInput={set("memoryLimit")} placeholder="4Gi" />
          </Field>
        </fieldset>
        <p class="muted" data-testid="edit-effect">
          {effectOf(changes)}
        </p>
        <footer class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={action.pending || unchanged}>
            {action.pending ? <span class="spinner spinner-light" aria-hidden="true" /> : null}
            {action.pending ? "Saving…" : "Save"}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}

/** What saving will do, so a restart of the control plane is never a surprise. */
function effectOf(changes: ReturnType<typeof editChanges>): string {
  if ("labelError" in changes) return "";
  if (changes.paths.length === 0) return "Nothing changed yet.";
  if (changes.specChanged) return "Saving rolls out the new settings: the vcluster is Updating until it runs them.";
  return "Label changes apply at once; the control plane is not touched.";
}
