import type { VCluster } from "@open-vcluster/api";
import { useState } from "preact/hooks";
import { useClient } from "../state/client-context.js";
import { useAction } from "../state/use-action.js";
import { Dialog } from "../ui/dialog.js";
import { Field } from "../ui/field.js";
import { errorFor, FormError } from "../ui/form-error.js";

const FIELDS = [
  "replicas",
  "resources.cpu_request",
  "resources.cpu_limit",
  "resources.memory_request",
  "resources.memory_limit",
];

export function ScaleDialog(props: { vcluster: VCluster; onClose: () => void }) {
  const { vcluster } = props;
  const client = useClient();
  const action = useAction({ errorShownInline: true });
  const current = vcluster.spec?.resources;
  const [form, setForm] = useState({
    replicas: String(vcluster.spec?.replicas || 1),
    cpuRequest: current?.cpuRequest ?? "",
    cpuLimit: current?.cpuLimit ?? "",
    memoryRequest: current?.memoryRequest ?? "",
    memoryLimit: current?.memoryLimit ?? "",
  });
  const set = (key: keyof typeof form) => (event: Event) =>
    setForm({ ...form, [key]: (event.currentTarget as HTMLInputElement).value });
  const target = `${vcluster.namespace}/${vcluster.name}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(`Scaling ${target}…`, `Scaling of ${target} started`, () =>
      client.vclusters.scaleVCluster({
        name: vcluster.name,
        namespace: vcluster.namespace,
        replicas: Number(form.replicas) || 0,
        resources: {
          cpuRequest: form.cpuRequest.trim(),
          cpuLimit: form.cpuLimit.trim(),
          memoryRequest: form.memoryRequest.trim(),
          memoryLimit: form.memoryLimit.trim(),
        },
      }),
    );
    if (ok) props.onClose();
  };
  const error = action.error;
  const at = (field: string) => errorFor(error, field, `spec.${field}`);
  return (
    <Dialog title={`Scale ${vcluster.name}`} onClose={props.onClose} wide>
      <form class="form" onSubmit={submit} noValidate>
        <FormError error={error} formFields={FIELDS.flatMap((f) => [f, `spec.${f}`])} />
        <div class="form-grid">
          <Field label="Control-plane replicas" hint="3 or more needs an etcd backing store" error={at("replicas")}>
            <input name="replicas" type="number" min="1" max="9" value={form.replicas} onInput={set("replicas")} />
          </Field>
          <span />
          <Field label="CPU request" error={at("resources.cpu_request")}>
            <input name="cpuRequest" value={form.cpuRequest} onInput={set("cpuRequest")} />
          </Field>
          <Field label="CPU limit" error={at("resources.cpu_limit")}>
            <input name="cpuLimit" value={form.cpuLimit} onInput={set("cpuLimit")} />
          </Field>
          <Field label="Memory request" error={at("resources.memory_request")}>
            <input name="memoryRequest" value={form.memoryRequest} onInput={set("memoryRequest")} />
          </Field>
          <Field label="Memory limit" error={at("resources.memory_limit")}>
            <input name="memoryLimit" value={form.memoryLimit} onInput={set("memoryLimit")} />
          </Field>
        </div>
        <footer class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={action.pending}>
            {action.pending ? "Scaling…" : "Scale"}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
