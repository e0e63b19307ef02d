import type { OperationKind } from "./types.js";

export interface ProviderFault {
  kind: OperationKind;
  /** How many of the next operations of this kind are affected (default 1). */
  count?: number;
  mode: "fail" | "slow";
  /** slow: extra delay in ms, not scaled by the time scale (default 60 000). */
  delayMs?: number;
  /** fail: the error message the vcluster's status will carry. */
  message?: string;
}

interface ArmedFault extends ProviderFault {
  remaining: number;
}

/** Arms failures or delays for the next N provider operations of a kind (tests, chaos drills). */
export class ProviderFaults {
  private armed: ArmedFault[] = [];

  inject(fault: ProviderFault): void {
    this.armed.push({ ...fault, remaining: Math.max(1, fault.count ?? 1) });
  }

  clear(): void {
    this.armed = [];
  }

  /** Consumes the first armed fault for `kind`, if any. */
  take(kind: OperationKind): ProviderFault | undefined {
    const fault = this.armed.find((f) => f.kind === kind && f.remaining > 0);
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.armed = this.armed.filter((f) => f.remaining > 0);
    return fault;
  }
}
