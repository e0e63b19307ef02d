import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/**
 * A modal built on <dialog>: the browser traps focus, makes the page inert and closes it on
 * Escape, which a hand-made overlay would have to re-implement.
 */
export function Dialog(props: { title: string; onClose: () => void; wide?: boolean; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  // Parents pass a new onClose on every render (each watch event or notice); opening and
  // focusing again then would pull the caret out of the field being typed in.
  const onClose = useRef(props.onClose);
  onClose.current = props.onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    dialog.showModal();
    // The browser would focus the close button, the first control; the first field is what users want.
    dialog.querySelector<HTMLElement>("input:not([type=checkbox]), select, textarea")?.focus();
    const cancel = (event: Event) => {
      event.preventDefault();
      onClose.current();
    };
    dialog.addEventListener("cancel", cancel);
    return () => dialog.removeEventListener("cancel", cancel);
  }, []);
  return (
    <dialog ref={ref} class={props.wide ? "dialog dialog-wide" : "dialog"} aria-labelledby="dialog-title">
      <header class="dialog-header">
        <h2 id="dialog-title">{props.title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={() => onClose.current()}>
          ×
        </button>
      </header>
      {props.children}
    </dialog>
  );
}
