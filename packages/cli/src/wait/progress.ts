import type { OutputStream } from "../io.js";

const CLEAR_LINE = "\r\u001b[2K";

/**
 * Reports state transitions while waiting. On a terminal one line is rewritten in place and
 * shows the whole path ("Creating → Running"); elsewhere (CI logs, pipes) each transition is
 * its own line, because carriage returns turn logs into noise.
 */
export class TransitionProgress {
  private readonly states: string[] = [];
  private lastDetail = "";
  private lineOpen = false;

  constructor(
    private readonly out: OutputStream,
    private readonly subject: string,
  ) {}

  observe(state: string, detail = ""): void {
    if (this.states.at(-1) === state) {
      if (!this.out.isTTY || detail === this.lastDetail) return;
    } else {
      this.states.push(state);
    }
    this.lastDetail = detail;
    const suffix = detail ? ` (${detail})` : "";
    if (this.out.isTTY) {
      this.out.write(`${CLEAR_LINE}${this.subject}: ${this.states.join(" → ")}${suffix}`);
      this.lineOpen = true;
    } else {
      this.out.write(`${this.subject}: ${state}${suffix}\n`);
    }
  }

  /** Ends the rewritten line so whatever follows starts on a fresh one. */
  finish(): void {
    if (this.lineOpen) this.out.write("\n");
    this.lineOpen = false;
  }
}
