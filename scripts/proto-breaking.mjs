// The breaking-change check against the published contract.
//
// proto/baseline/ holds the published contract as readable proto: the original
// open-vcluster-api contract plus whatever releases have added since. proto/baseline.binpb is
// that source built into a Buf image (what tools compare against); this script checks that
// the image is what the source builds, runs `buf breaking` of the current proto against it,
// and compares what buf reports with proto/intended-changes.json: a reported change that is not
// listed fails (it breaks clients of the published contract), and so does a listed change buf no
// longer reports (the list must stay true).
//
//   node scripts/proto-breaking.mjs            check (proto-check runs this)
//   node scripts/proto-breaking.mjs --write    rebuild proto/baseline.binpb from proto/baseline/ (on release)
//   node scripts/proto-breaking.mjs --root D   check the checkout at D (tests use a copy)
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const rootIndex = args.indexOf("--root");
const root = rootIndex >= 0 ? resolve(args[rootIndex + 1]) : repo;
const write = args.includes("--write");
const localBuf = join(repo, "node_modules", ".bin", process.platform === "win32" ? "buf.cmd" : "buf");
const buf = existsSync(localBuf) ? localBuf : "buf";

const baselineSource = join(root, "proto", "baseline");
const baselineImage = join(root, "proto", "baseline.binpb");
const intendedFile = join(root, "proto", "intended-changes.json");

function fail(message) {
  console.error(`proto-breaking: ${message}`);
  process.exit(1);
}

function runBuf(bufArgs, cwd) {
  return spawnSync(buf, bufArgs, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Builds proto/baseline/ on its own (it is excluded from the workspace's API module). */
function buildBaseline() {
  const dir = mkdtempSync(join(tmpdir(), "proto-baseline-"));
  try {
    const out = join(dir, "baseline.binpb");
    const built = runBuf(["build", "--config", '{"version":"v2"}', "-o", out], baselineSource);
    if (built.status !== 0) fail(`building proto/baseline failed:\n${built.stderr}`);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const image = buildBaseline();
if (write) {
  writeFileSync(baselineImage, image);
  console.log("proto-breaking: wrote proto/baseline.binpb from proto/baseline/");
  process.exit(0);
}
if (!existsSync(baselineImage) || !readFileSync(baselineImage).equals(image)) {
  fail("proto/baseline.binpb is not what proto/baseline/ builds; run `node scripts/proto-breaking.mjs --write`");
}

const checked = runBuf(["breaking", "--against", baselineImage, "--error-format", "json"], root);
if (checked.status !== 0 && checked.stdout.trim() === "") fail(`buf breaking failed:\n${checked.stderr}`);
const reported = checked.stdout
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line));
const intended = JSON.parse(readFileSync(intendedFile, "utf8")).changes;
const key = (c) => `${c.type ?? c.rule}: ${c.message}`;
const intendedKeys = new Set(intended.map(key));
const reportedKeys = new Set(reported.map(key));
const unexpected = reported.filter((c) => !intendedKeys.has(key(c)));
const gone = intended.filter((c) => !reportedKeys.has(key(c)));
if (unexpected.length > 0) {
  const lines = unexpected.map((c) => `  ${c.path}:${c.start_line}: ${key(c)}`).join("\n");
  fail(
    `breaking changes against the published contract:\n${lines}\n` +
      "Keep the published API (field numbers, names, types, enum values, RPCs) or, if the change is " +
      "intended and wire- and JSON-compatible, list it with the reason in proto/intended-changes.json.",
  );
}
if (gone.length > 0) {
  fail(
    `proto/intended-changes.json lists changes buf no longer reports:\n${gone.map((c) => `  ${key(c)}`).join("\n")}`,
  );
}
console.log(`proto-breaking: compatible with the published contract (${intended.length} intended changes)`);
