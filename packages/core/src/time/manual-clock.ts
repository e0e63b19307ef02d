import type { Clock } from "./clock.js";

interface PendingTimer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock that only moves when told to. Timers fire in due order while advancing, with the
 * microtask queue drained between them so promise chains woken by one timer can schedule the
 * next before time moves on. Exported for SDK users' own tests.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, ms: number): () => void {
    const timer: PendingTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Number of timers waiting to fire. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.callback();
      await flushMicrotasks();
    }
    this.time = target;
    await flushMicrotasks();
  }

  /** Fires the earliest pending timer (jumping time to it); false when none is pending. */
  async runNext(): Promise<boolean> {
    await flushMicrotasks();
    const next = this.earliest();
    if (!next) return false;
    await this.advance(next.at - this.time);
    return true;
  }

  private earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

async function flushMicrotasks(): Promise<void> {
  // Several turns: awaited chains inside transports and async generators need more than one.
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
