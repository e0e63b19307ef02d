import { useNotifier } from "../state/notifications.js";

/** Progress, success and error notices of the user's actions, bottom right. */
export function NotificationsView() {
  const { notifications, dismiss } = useNotifier();
  return (
    <section class="notifications" aria-live="polite" aria-label="Notifications">
      {notifications.map((n) => (
        <div key={n.id} class={`notice notice-${n.kind}`} role={n.kind === "error" ? "alert" : "status"}>
          {n.kind === "progress" ? <span class="spinner" aria-hidden="true" /> : null}
          <div class="notice-body">
            <strong>{n.title}</strong>
            {n.error ? (
              <>
                <span class="notice-message">{n.error.message}</span>
                <span class="notice-meta">
                  {n.error.reason}
                  {n.error.field ? ` · field ${n.error.field}` : ""}
                </span>
              </>
            ) : null}
          </div>
          {n.kind !== "progress" ? (
            <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
              ×
            </button>
          ) : null}
        </div>
      ))}
    </section>
  );
}
