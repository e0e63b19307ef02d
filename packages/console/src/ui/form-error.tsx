import type { ErrorDescription } from "../api/describe-error.js";

/**
 * The server's error above a form. When the field it names has an input of its own, the
 * message is shown there instead, so this only repeats the reason.
 */
export function FormError(props: { error: ErrorDescription | undefined; shownAtField?: boolean }) {
  const { error } = props;
  if (!error) return null;
  // A refused change (e.g. a Kubernetes downgrade) is well formed; there is nothing to correct.
  const summary =
    error.reason === "FAILED_PRECONDITION"
      ? "The server refused this change."
      : "Please correct the highlighted field.";
  return (
    <div class="form-error" role="alert">
      <strong>{props.shownAtField ? summary : error.message}</strong>
      <span class="form-error-meta">
        {error.reason}
        {error.field ? ` · field ${error.field}` : ""}
      </span>
    </div>
  );
}

/** The server's message when it blames this field (or a part of it, e.g. one label). */
export function errorFor(error: ErrorDescription | undefined, ...fields: string[]): string | undefined {
  if (!error?.field) return undefined;
  const blamed = error.field;
  const matches = fields.some((f) => blamed === f || blamed.startsWith(`${f}.`) || blamed.startsWith(`${f}[`));
  return matches ? error.message : undefined;
}
