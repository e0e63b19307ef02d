import { useState } from "preact/hooks";
import { describeError, type ErrorDescription } from "../api/describe-error.js";
import { type TrackOptions, useNotifier } from "./notifications.js";

/** One action's own state, for the button or form that started it. */
export interface ActionState {
  pending: boolean;
  error: ErrorDescription | undefined;
  /** Runs the call once; resolves true on success, false on failure (the error is kept here). */
  run(title: string, done: string, call: () => Promise<unknown>): Promise<boolean>;
  reset(): void;
}

/** `errorShownInline`: for forms, which show the error themselves, next to the field it names. */
export function useAction(options: TrackOptions = {}): ActionState {
  const notifier = useNotifier();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ErrorDescription | undefined>(undefined);
  return {
    pending,
    error,
    reset: () => setError(undefined),
    async run(title, done, call) {
      setPending(true);
      setError(undefined);
      try {
        await notifier.track(title, done, call, options);
        return true;
      } catch (failure) {
        setError(describeError(failure));
        return false;
      } finally {
        setPending(false);
      }
    },
  };
}
