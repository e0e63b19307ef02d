import type { ComponentChildren } from "preact";

/** A labelled form control with its hint, or the error the server gave for it. */
export function Field(props: { label: string; hint?: string; error?: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is the children, which this label wraps
    <label class={props.error ? "field field-invalid" : "field"}>
      <span class="field-label">{props.label}</span>
      {props.children}
      {props.error ? (
        <span class="field-error" role="alert">
          {props.error}
        </span>
      ) : props.hint ? (
        <span class="field-hint">{props.hint}</span>
      ) : null}
    </label>
  );
}
