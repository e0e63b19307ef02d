/**
 * Provisioning capacity: at most `limit` creates run at once (0 = unlimited), as a host
 * cluster with limited room would allow. Creates beyond it wait, first come first served, in
 * phase PENDING. Taking a free slot is synchronous, so a handler can ask `available()` and
 * start the work in the same step without another create slipping in between.
 */
export class ProvisioningSlots {
  private active = 0;
  private readonly waiting: { grant: () => void; signal: AbortSignal; cancel: () => void }[] = [];

  constructor(private readonly limit: number) {}

  /** Whether a create started now would get a slot at once. */
  available(): boolean {
    return this.limit === 0 || (this.active < this.limit && this.waiting.length === 0);
  }

  /** Takes a slot: `undefined` when taken at once, else a promise that settles when granted or aborted. */
  acquire(signal: AbortSignal): Promise<void> | undefined {
    if (this.available()) {
      this.active += 1;
      return undefined;
    }
    return new Promise((resolve, reject) => {
      const entry = {
        signal,
        grant: () => {
          signal.removeEventListener("abort", entry.cancel);
          this.active += 1;
          resolve();
        },
        cancel: () => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener("abort", entry.cancel, { once: true });
      this.waiting.push(entry);
    });
  }

  release(): void {
    this.active -= 1;
    const next = this.waiting.shift();
    next?.grant();
  }
}
