import { Worker } from "node:worker_threads";

// The worker's whole program: its own connection to the file, one PASSIVE checkpoint per ask.
// PASSIVE never takes the write lock, so the writing connection goes on while it copies.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { DatabaseSync } = require("node:sqlite");
let db;
try {
  db = new DatabaseSync(workerData.path);
  db.exec("PRAGMA busy_timeout = 5000");
} catch {
  // The store closed (and its file went) before this thread started, or the file cannot be had.
  process.exit(1);
}
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
parentPort.on("message", (message) => {
  if (message === "close") {
    db.close();
    process.exit(0);
  }
  try {
    checkpoint.get();
    parentPort.postMessage(null);
  } catch (error) {
    parentPort.postMessage(String(error));
  }
});
`;

/**
 * Copies the write-ahead log into the database on a worker thread. A checkpoint syncs the log,
 * writes every page it holds and syncs the database: done by the writing connection (SQLite's
 * automatic checkpoint), that is several milliseconds on the event loop every thousand pages.
 * The writing connection turns its own off and asks this one after every `every` commits; the
 * log restarts from its beginning on the first write after a complete checkpoint, as before. If
 * the worker is lost, `onLost` runs (the connection turns its own checkpoints back on).
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #every: number;
  #commits = 0;
  #running = false;
  #closed = false;

  constructor(path: string, onLost: () => void, every = 64) {
    this.#every = every;
    this.#worker = new Worker(WORKER, { eval: true, workerData: { path } });
    this.#worker.on("exit", () => {
      if (!this.#closed) onLost();
      this.#closed = true;
    });
    // A checkpoint that failed (the file busy, say) is tried again at the next ask.
    this.#worker.on("message", () => {
      this.#running = false;
    });
    this.#worker.on("error", (error) => {
      if (!this.#closed) process.emitWarning(error, { code: "STORE_CHECKPOINT_ERROR" });
    });
    // It must not keep the process alive: an idle store does not hold up the process's exit.
    this.#worker.unref();
  }

  /** After each commit of the writing connection. */
  committed(): void {
    this.#commits += 1;
    if (this.#running || this.#closed || this.#commits < this.#every) return;
    this.#commits = 0;
    this.#running = true;
    this.#worker.postMessage(null);
  }

  /** Stops the worker once its checkpoint, if any, is done; it closes its own connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.postMessage("close");
  }
}
