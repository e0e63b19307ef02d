import { toJson } from "@bufbuild/protobuf";
import { type VCluster, VClusterSchema } from "@open-vcluster/api";
import { useMemo } from "preact/hooks";
import { stringify } from "yaml";
import { CopyButton } from "../ui/copy-button.js";

/**
 * The vcluster as YAML in the API's JSON form: the same document `vcluster-api get -o yaml`
 * prints, so what is copied here can be compared, kept or fed to `create -f`.
 */
export function YamlView(props: { vcluster: VCluster }) {
  const text = useMemo(() => stringify(toJson(VClusterSchema, props.vcluster)), [props.vcluster]);
  return (
    <div class="code-block">
      <div class="code-block-bar">
        <span class="muted small">
          vcluster-api get {props.vcluster.name} -n {props.vcluster.namespace} -o yaml
        </span>
        <CopyButton text={text} label="Copy YAML" />
      </div>
      <pre class="mono" data-testid="vcluster-yaml">
        {text}
      </pre>
    </div>
  );
}

/** The commands that give kubectl access to the vcluster, each with a copy button. */
export function ConnectCommands(props: { vcluster: VCluster }) {
  const { name, namespace } = props.vcluster;
  const commands = [
    { label: "Switch kubectl to it", text: `vcluster-api connect ${name} -n ${namespace}` },
    { label: "Write a kubeconfig file", text: `vcluster-api kubeconfig ${name} -n ${namespace} > ${name}.kubeconfig` },
  ];
  return (
    <ul class="command-list">
      {commands.map((command) => (
        <li key={command.label}>
          <span class="muted small">{command.label}</span>
          <div class="command">
            <code class="mono">{command.text}</code>
            <CopyButton text={command.text} label={`Copy command: ${command.label}`} />
          </div>
        </li>
      ))}
    </ul>
  );
}
