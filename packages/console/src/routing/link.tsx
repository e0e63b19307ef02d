import type { ComponentChildren } from "preact";
import { navigate } from "./route.js";

/** An anchor that navigates in place, while keeping open-in-new-tab and copy-link working. */
export function Link(props: { href: string; class?: string; children: ComponentChildren }) {
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} class={props.class} onClick={onClick}>
      {props.children}
    </a>
  );
}
