import type { ComponentChildren } from "preact";
import { createContext } from "preact";
import { useCallback, useContext, useMemo, useState } from "preact/hooks";
import { describeError, type ErrorDescription } from "../api/describe-error.js";

export interface Notification {
  id: number;
  kind: "progress" | "success" | "error";
  title: string;
  error?: ErrorDescription;
}

interface Notifier {
  notifications: Notification[];
  dismiss(id: number): void;
  /**
   * Runs one user action: a progress notice while the call is in flight, then a short success
   * notice, or an error notice that stays until dismissed. Rethrows so forms can show the field.
   */
  track<T>(title: string, done: string, action: () => Promise<T>, options?: TrackOptions): Promise<T>;
}

export interface TrackOptions {
  /** The caller shows the error itself (a form, at the field): no error notice then. */
  errorShownInline?: boolean;
}

const NotifierContext = createContext<Notifier | undefined>(undefined);
const SUCCESS_VISIBLE_MS = 4000;

export function NotificationProvider(props: { children: ComponentChildren }) {
  const [notifications, setNotifications] = useState<Notification[]>([]);
  const [nextId] = useState(() => ({ value: 1 }));
  const dismiss = useCallback((id: number) => setNotifications((all) => all.filter((n) => n.id !== id)), []);
  const replace = useCallback(
    (id: number, next: Notification) => setNotifications((all) => all.map((n) => (n.id === id ? next : n))),
    [],
  );
  const track = useCallback(
    async <T,>(title: string, done: string, action: () => Promise<T>, options: TrackOptions = {}): Promise<T> => {
      const id = nextId.value++;
      setNotifications((all) => [...all, { id, kind: "progress", title }]);
      try {
        const result = await action();
        replace(id, { id, kind: "success", title: done });
        setTimeout(() => dismiss(id), SUCCESS_VISIBLE_MS);
        return result;
      } catch (error) {
        if (options.errorShownInline) {
          dismiss(id);
          throw error;
        }
        replace(id, { id, kind: "error", title: `${title.replace(/…$/, "")} failed`, error: describeError(error) });
        throw error;
      }
    },
    [dismiss, replace, nextId],
  );
  const value = useMemo(() => ({ notifications, dismiss, track }), [notifications, dismiss, track]);
  return <NotifierContext.Provider value={value}>{props.children}</NotifierContext.Provider>;
}

export function useNotifier(): Notifier {
  const notifier = useContext(NotifierContext);
  if (!notifier) throw new Error("useNotifier needs a NotificationProvider");
  return notifier;
}
