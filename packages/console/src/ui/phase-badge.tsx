import type { Phase } from "@open-vcluster/api";
import { isTransitional, phaseLabel } from "../format/phase.js";

export function PhaseBadge(props: { phase: Phase }) {
  const label = phaseLabel(props.phase);
  const moving = isTransitional(props.phase);
  return (
    <span class={`phase phase-${label.toLowerCase()}`} data-phase={label}>
      <span class={moving ? "phase-dot phase-dot-moving" : "phase-dot"} aria-hidden="true" />
      {label}
    </span>
  );
}
