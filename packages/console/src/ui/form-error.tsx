import type { ErrorDescription, Violation } from "../api/describe-error.js";

function blames(violation: Violation, fields: string[]): boolean {
  const blamed = violation.field;
  return fields.some((f) => blamed === f || blamed.startsWith(`${f}.`) || blamed.startsWith(`${f}[`));
}

/**
 * The server's error above a form. Violations of fields that have an input of their own are
 * shown at those inputs; this lists the rest, so every one the server reported is on screen.
 */
export function FormError(props: { error: ErrorDescription | undefined; formFields?: string[] }) {
  const { error } = props;
  if (!error) return null;
  const formFields = props.formFields ?? [];
  const elsewhere = error.violations.filter((v) => !blames(v, formFields));
  const atFields = error.violations.length - elsewhere.length;
  // A refused change (e.g. a Kubernetes downgrade) is well formed; there is nothing to correct.
  const summary =
    error.reason === "FAILED_PRECONDITION"
      ? "The server refused this change."
      : atFields > 1
        ? `Please correct the ${atFields} highlighted fields.`
        : "Please correct the highlighted field.";
  return (
    <div class="form-error" role="alert">
      <strong>{atFields > 0 ? summary : error.message}</strong>
      {elsewhere.length > 0 && atFields > 0 ? (
        <ul class="form-error-list">
          {elsewhere.map((v) => (
            <li key={v.field}>{v.description}</li>
          ))}
        </ul>
      ) : null}
      {error.omittedViolations > 0 ? (
        <span class="form-error-meta">and {error.omittedViolations} more problems the server did not list</span>
      ) : null}
      <span class="form-error-meta">
        {error.reason}
        {error.field ? ` · field ${error.field}` : ""}
      </span>
    </div>
  );
}

/** The server's messages for this field (or a part of it, e.g. one label), every one of them. */
export function errorFor(error: ErrorDescription | undefined, ...fields: string[]): string | undefined {
  if (!error) return undefined;
  const messages = error.violations.filter((v) => blames(v, fields)).map((v) => v.description);
  return messages.length > 0 ? messages.join(" · ") : undefined;
}
