import { closeSync, fdatasync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Makes a write-ahead log durable without blocking the event loop. SQLite runs with
 * `synchronous=NORMAL`, which in WAL mode is `FULL` less the sync at the end of each COMMIT;
 * this is that sync, done on libuv's thread pool. One runs at a time, and every commit made
 * while one runs shares the next: group commit across COMMITs, not only within one.
 */
export class WalSync {
  readonly #fd: number;
  #running: Promise<void> | undefined;
  // The sync that starts when the running one ends; it covers every write made before it starts.
  #queued: Promise<void> | undefined;
  #failed: { error: unknown } | undefined;

  /** Opens the log (which must exist) and makes it and its directory entry durable once. */
  constructor(walPath: string) {
    this.#fd = openSync(walPath, "r+");
    try {
      fsyncSync(this.#fd);
      // SQLite syncs a new log's directory only at a checkpoint under NORMAL.
      const directory = openSync(dirname(walPath), "r");
      try {
        fsyncSync(directory);
      } finally {
        closeSync(directory);
      }
    } catch (error) {
      closeSync(this.#fd);
      throw error;
    }
  }

  /**
   * Resolves once everything written to the log before the call is on disk; promises settle in
   * the order of the calls. After a failed sync every later one fails too: what the kernel
   * dropped cannot be told from what it kept.
   */
  sync(): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed.error);
    if (this.#queued !== undefined) return this.#queued;
    const running = this.#running;
    if (running === undefined) return this.#start();
    const queued = running.then(() => {
      this.#queued = undefined;
      return this.#start();
    });
    this.#queued = queued;
    return queued;
  }

  #start(): Promise<void> {
    const run = new Promise<void>((resolve, reject) => {
      fdatasync(this.#fd, (error) => {
        if (this.#running === run) this.#running = undefined;
        if (error === null) return resolve();
        this.#failed ??= { error };
        reject(error);
      });
    });
    this.#running = run;
    return run;
  }

  /** Closes the log's descriptor; the syncs asked for must have settled. */
  close(): void {
    closeSync(this.#fd);
  }
}
