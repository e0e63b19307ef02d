import { cloneElement, type VNode } from "preact";
import { useId } from "preact/hooks";

/**
 * A labelled form control. The label alone is the control's accessible name; the hint or the
 * server's error is its description (aria-describedby), so a screen reader says "Name, edit
 * text" and then the hint, rather than reading everything as one long name.
 */
export function Field(props: { label: string; hint?: string; error?: string; children: VNode }) {
  const id = useId();
  const noteId = `${id}-note`;
  const note = props.error ?? props.hint;
  const control = cloneElement(props.children, {
    id,
    ...(note ? { "aria-describedby": noteId } : {}),
    ...(props.error ? { "aria-invalid": "true" } : {}),
  });
  return (
    <div class={props.error ? "field field-invalid" : "field"}>
      <label class="field-label" for={id}>
        {props.label}
      </label>
      {control}
      {props.error ? (
        <span class="field-error" id={noteId} role="alert">
          {props.error}
        </span>
      ) : props.hint ? (
        <span class="field-hint" id={noteId}>
          {props.hint}
        </span>
      ) : null}
    </div>
  );
}
