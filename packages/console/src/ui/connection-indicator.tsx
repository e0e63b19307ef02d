import type { ConnectionStatus } from "@open-vcluster/web";

const TEXT: Record<ConnectionStatus, string> = {
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
};

/** Whether the list on screen is following the server right now. */
export function ConnectionIndicator(props: { status: ConnectionStatus }) {
  return (
    <span class={`connection connection-${props.status}`} data-status={props.status} title="Watch stream status">
      <span class="connection-dot" aria-hidden="true" />
      {TEXT[props.status]}
    </span>
  );
}
