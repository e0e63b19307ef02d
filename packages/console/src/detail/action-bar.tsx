import { Phase, type Snapshot, type VCluster } from "@open-vcluster/api";
import { useState } from "preact/hooks";
import { DeleteDialog } from "../actions/delete-dialog.js";
import { downloadKubeconfig } from "../actions/download-kubeconfig.js";
import { EditDialog } from "../actions/edit-dialog.js";
import { RestoreDialog } from "../actions/restore-dialog.js";
import { ScaleDialog } from "../actions/scale-dialog.js";
import { SnapshotDialog } from "../actions/snapshot-dialog.js";
import { SuspendDialog } from "../actions/suspend-dialog.js";
import { navigate } from "../routing/route.js";
import { useClient } from "../state/client-context.js";
import { useAction } from "../state/use-action.js";

type OpenDialog = "edit" | "scale" | "suspend" | "snapshot" | "restore" | "delete" | undefined;

/**
 * Buttons are enabled in the phases where the server accepts the operation; the server still
 * decides, and its refusal is shown if the phase changed in the meantime.
 */
export function ActionBar(props: { vcluster: VCluster; snapshots: Snapshot[] }) {
  const { vcluster } = props;
  const client = useClient();
  const resume = useAction();
  const kubeconfig = useAction();
  const [open, setOpen] = useState<OpenDialog>(undefined);
  const phase = vcluster.status?.phase ?? Phase.UNSPECIFIED;
  const running = phase === Phase.RUNNING;
  const settled = running || phase === Phase.SUSPENDED || phase === Phase.ERROR;
  const target = `${vcluster.namespace}/${vcluster.name}`;
  const close = () => setOpen(undefined);
  const onlyWhenRunning = running ? undefined : "Available while the vcluster is running";

  return (
    <div class="action-bar" role="toolbar" aria-label="Actions">
      {phase === Phase.SUSPENDED ? (
        <button
          type="button"
          class="button button-primary"
          disabled={resume.pending}
          onClick={() =>
            resume.run(`Resuming ${target}…`, `${target} is resuming`, () =>
              client.vclusters.resumeVCluster({ name: vcluster.name, namespace: vcluster.namespace }),
            )
          }
        >
          {resume.pending ? "Resuming…" : "Resume"}
        </button>
      ) : (
        <button
          type="button"
          class="button"
          disabled={!running}
          title={onlyWhenRunning}
          onClick={() => setOpen("suspend")}
        >
          Suspend
        </button>
      )}
      <button
        type="button"
        class="button"
        disabled={!settled}
        title={settled ? undefined : "Available while the vcluster is running, suspended or failed"}
        onClick={() => setOpen("edit")}
      >
        Edit
      </button>
      <button type="button" class="button" disabled={!running} title={onlyWhenRunning} onClick={() => setOpen("scale")}>
        Scale
      </button>
      <button
        type="button"
        class="button"
        disabled={!running}
        title={onlyWhenRunning}
        onClick={() => setOpen("snapshot")}
      >
        Snapshot
      </button>
      <button type="button" class="button" disabled={!settled} onClick={() => setOpen("restore")}>
        Restore
      </button>
      <button
        type="button"
        class="button"
        disabled={!running || kubeconfig.pending}
        title={onlyWhenRunning}
        onClick={() =>
          kubeconfig.run(`Fetching kubeconfig of ${target}…`, "Kubeconfig downloaded", () =>
            downloadKubeconfig(client, vcluster),
          )
        }
      >
        {kubeconfig.pending ? "Fetching…" : "Download kubeconfig"}
      </button>
      <button
        type="button"
        class="button button-danger-outline"
        disabled={phase === Phase.DELETING}
        onClick={() => setOpen("delete")}
      >
        Delete
      </button>
      {open === "edit" ? <EditDialog vcluster={vcluster} onClose={close} /> : null}
      {open === "scale" ? <ScaleDialog vcluster={vcluster} onClose={close} /> : null}
      {open === "suspend" ? <SuspendDialog vcluster={vcluster} onClose={close} /> : null}
      {open === "snapshot" ? <SnapshotDialog vcluster={vcluster} onClose={close} /> : null}
      {open === "restore" ? <RestoreDialog vcluster={vcluster} snapshots={props.snapshots} onClose={close} /> : null}
      {open === "delete" ? (
        <DeleteDialog
          vcluster={vcluster}
          onClose={close}
          onDeleted={() => {
            close();
            navigate("/");
          }}
        />
      ) : null}
    </div>
  );
}
