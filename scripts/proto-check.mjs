// Checks the proto contract: lint, formatting, compatibility with the released baseline,
// and that the committed generated code is exactly what the proto generates.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const generatedDir = "packages/api/src/gen";
const baseline = "proto/baseline.binpb";

function buf(...args) {
  const result = spawnSync("buf", args, { stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`proto-check: 'buf ${args.join(" ")}' failed`);
    process.exit(result.status ?? 1);
  }
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((file) => statSync(join(dir, file)).isFile())
    .sort();
}

buf("lint");
buf("format", "--diff", "--exit-code");
// The baseline is the contract as last released; it only moves forward on release.
buf("breaking", "--against", baseline);

const scratch = mkdtempSync(join(tmpdir(), "proto-check-"));
try {
  buf("generate", "--output", scratch);
  const fresh = join(scratch, generatedDir);
  const want = listFiles(fresh);
  const have = listFiles(generatedDir);
  const stale = [
    ...want.filter(
      (f) => !have.includes(f) || readFileSync(join(fresh, f), "utf8") !== readFileSync(join(generatedDir, f), "utf8"),
    ),
    ...have.filter((f) => !want.includes(f)),
  ];
  if (stale.length > 0) {
    console.error(
      `proto-check: generated code is stale; run 'pnpm generate' and commit:\n  ${stale.map((f) => relative(".", join(generatedDir, f))).join("\n  ")}`,
    );
    process.exit(1);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
console.log("proto-check: lint, format, breaking and codegen freshness all pass");
