// Reads a test run's output on stdin, passes it through unchanged, and ends it with one line
// that adds up every vitest and pytest summary: "N passed, N failed" (", N skipped" when any were).
import { createInterface } from "node:readline";

const totals = { passed: 0, failed: 0, skipped: 0 };
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are control characters.
const ansi = /\u001b\[[0-9;]*m/g;

for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
  process.stdout.write(`${line}\n`);
  const plain = line.replace(ansi, "");
  // pytest ends with "=== 12 passed, 1 skipped in 3.40s ===" (or, with -q, the bare counts).
  const pytest = /(?:^|: )=* ?((?:\d+ [a-z]+(?:, )?)+) in \d+(?:\.\d+)?s\b/.exec(plain);
  if (!pytest && !/\bTests\s+\d/.test(plain)) continue;
  for (const [, count, kind] of (pytest?.[1] ?? plain).matchAll(/(\d+) (passed|failed|skipped|errors?)\b/g)) {
    totals[kind.startsWith("error") ? "failed" : kind] += Number(count);
  }
}
const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : "";
console.log(`${totals.passed} passed, ${totals.failed} failed${skipped}`);
