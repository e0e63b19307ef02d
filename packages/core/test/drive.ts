import type { ManualClock } from "../src/time/manual-clock.js";

/** Advances the manual clock timer by timer until the promise settles; returns its outcome. */
export async function drive<T>(clock: ManualClock, promise: Promise<T>, maxSteps = 1000): Promise<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let i = 0; i < maxSteps && !settled; i++) {
    // Let in-flight in-process calls finish before time jumps to the next timer.
    await tick(3);
    if (!settled) await clock.runNext();
  }
  return promise;
}

/** Lets real I/O callbacks and microtasks run (in-process transports hop through them). */
export function tick(turns = 5): Promise<void> {
  let p = Promise.resolve();
  for (let i = 0; i < turns; i++) p = p.then(() => new Promise((r) => setImmediate(r)));
  return p;
}

/** Waits (in real event-loop turns, not clock time) until the condition holds. */
export async function until(condition: () => boolean, turns = 500): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await tick(1);
  }
  throw new Error("condition not reached");
}

/** Consumes an async iterable in the background, collecting items and the final outcome. */
export function collect<T>(iterable: AsyncIterable<T>) {
  const state = { items: [] as T[], error: undefined as unknown, done: false };
  const finished = (async () => {
    try {
      for await (const item of iterable) state.items.push(item);
    } catch (error) {
      state.error = error;
    } finally {
      state.done = true;
    }
  })();
  return Object.assign(state, { finished });
}
