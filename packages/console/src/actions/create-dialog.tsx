import { useState } from "preact/hooks";
import { parseLabelInput } from "../format/labels.js";
import { useClient } from "../state/client-context.js";
import { useAction } from "../state/use-action.js";
import { Dialog } from "../ui/dialog.js";
import { Field } from "../ui/field.js";
import { errorFor, FormError } from "../ui/form-error.js";

interface Form {
  name: string;
  namespace: string;
  kubernetesVersion: string;
  replicas: string;
  cpuRequest: string;
  memoryRequest: string;
  labels: string;
}

const EMPTY: Form = {
  name: "",
  namespace: "default",
  kubernetesVersion: "",
  replicas: "1",
  cpuRequest: "",
  memoryRequest: "",
  labels: "",
};

// The request fields that have an input in this form; errors on others show above it.
const FORM_FIELDS = [
  "name",
  "namespace",
  "spec.kubernetes_version",
  "spec.replicas",
  "spec.resources.cpu_request",
  "spec.resources.cpu_limit",
  "spec.resources.memory_request",
  "spec.resources.memory_limit",
  "labels",
];

/**
 * Checks nothing the server checks: its message names the offending field and is shown at that
 * input, so the rules live in one place.
 */
export function CreateDialog(props: { onClose: () => void }) {
  const client = useClient();
  const action = useAction({ errorShownInline: true });
  const [form, setForm] = useState<Form>(EMPTY);
  const [labelError, setLabelError] = useState<string | undefined>(undefined);
  const set = (key: keyof Form) => (event: Event) =>
    setForm({ ...form, [key]: (event.currentTarget as HTMLInputElement).value });

  const submit = async (event: Event) => {
    event.preventDefault();
    const parsed = parseLabelInput(form.labels);
    if ("error" in parsed) {
      setLabelError(parsed.error);
      return;
    }
    setLabelError(undefined);
    const target = `${form.namespace || "default"}/${form.name}`;
    const ok = await action.run(`Creating ${target}…`, `Creation of ${target} started`, () =>
      client.vclusters.createVCluster({
        name: form.name.trim(),
        namespace: form.namespace.trim(),
        labels: parsed.labels,
        requestId: crypto.randomUUID(),
        spec: {
          kubernetesVersion: form.kubernetesVersion.trim(),
          replicas: Number(form.replicas) || 0,
          resources: { cpuRequest: form.cpuRequest.trim(), memoryRequest: form.memoryRequest.trim() },
        },
      }),
    );
    if (ok) props.onClose();
  };

  const error = action.error;
  return (
    <Dialog title="Create vcluster" onClose={props.onClose} wide>
      <form class="form" onSubmit={submit} noValidate>
        <FormError error={error} formFields={FORM_FIELDS} />
        <div class="form-grid">
          <Field
            label="Name"
            hint="Lowercase letters, digits and '-'; at most 53 characters"
            error={errorFor(error, "name")}
          >
            <input name="name" value={form.name} onInput={set("name")} autoComplete="off" />
          </Field>
          <Field label="Namespace" error={errorFor(error, "namespace")}>
            <input name="namespace" value={form.namespace} onInput={set("namespace")} autoComplete="off" />
          </Field>
          <Field
            label="Kubernetes version"
            hint="Empty for the server's default"
            error={errorFor(error, "spec.kubernetes_version")}
          >
            <input
              name="kubernetesVersion"
              value={form.kubernetesVersion}
              onInput={set("kubernetesVersion")}
              placeholder="1.34.2"
            />
          </Field>
          <Field label="Control-plane replicas" error={errorFor(error, "spec.replicas")}>
            <input name="replicas" type="number" min="1" max="9" value={form.replicas} onInput={set("replicas")} />
          </Field>
          <Field
            label="CPU request"
            hint="e.g. 200m or 1"
            error={errorFor(error, "spec.resources.cpu_request", "spec.resources.cpu_limit")}
          >
            <input name="cpuRequest" value={form.cpuRequest} onInput={set("cpuRequest")} placeholder="200m" />
          </Field>
          <Field
            label="Memory request"
            hint="e.g. 256Mi or 1Gi"
            error={errorFor(error, "spec.resources.memory_request", "spec.resources.memory_limit")}
          >
            <input name="memoryRequest" value={form.memoryRequest} onInput={set("memoryRequest")} placeholder="256Mi" />
          </Field>
        </div>
        <Field
          label="Labels"
          hint="key=value, separated by commas or new lines"
          error={labelError ?? errorFor(error, "labels")}
        >
          <textarea
            name="labels"
            rows={2}
            value={form.labels}
            onInput={set("labels")}
            placeholder="env=dev, team=platform"
          />
        </Field>
        <footer class="dialog-actions">
          <button type="button" class="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={action.pending}>
            {action.pending ? <span class="spinner spinner-light" aria-hidden="true" /> : null}
            {action.pending ? "Creating…" : "Create"}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}
