// The Go SDK's checks, in the order a reviewer would run them: formatting, go vet,
// staticcheck, then the tests (unit, shared vectors, and integration against the built
// reference server). Go itself must be installed (see go/README.md); modules, staticcheck
// included, come from the Go module proxy into the usual Go caches.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const moduleDir = join(dirname(fileURLToPath(import.meta.url)), "..");
// Pinned here rather than as a go.mod tool: tool requirements would become requirements of
// every program that imports the SDK.
const staticcheck = "honnef.co/go/tools/cmd/staticcheck@v0.8.2";

function run(args, { capture = false } = {}) {
  const result = spawnSync("go", args, {
    cwd: moduleDir,
    stdio: capture ? ["ignore", "pipe", "inherit"] : "inherit",
    encoding: "utf8",
  });
  if (result.error) {
    console.error(`go-sdk: cannot run go (${result.error.message}); install Go 1.26 or newer (see go/README.md)`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`go-sdk: 'go ${args.join(" ")}' failed`);
    process.exit(result.status ?? 1);
  }
  return result.stdout ?? "";
}

// gofmt ships beside go in GOROOT/bin, which need not be on PATH.
const gofmt = join(run(["env", "GOROOT"], { capture: true }).trim(), "bin", "gofmt");
const formatted = spawnSync(gofmt, ["-l", "."], { cwd: moduleDir, encoding: "utf8" });
if (formatted.error || formatted.status !== 0 || formatted.stdout.trim() !== "") {
  console.error(`go-sdk: gofmt -l lists files to format (or failed):\n${formatted.stdout ?? formatted.error}`);
  process.exit(1);
}
run(["vet", "./..."]);
run(["run", staticcheck, "./..."]);
goTest();
console.log("go-sdk: gofmt, go vet, staticcheck and go test pass");

/** Runs `go test -json`, prints package results and the output of failed tests, and ends with
 * a summary line in the form the repository's test summary adds up. */
function goTest() {
  const result = spawnSync("go", ["test", "-json", "-count=1", "-timeout=30m", "./..."], {
    cwd: moduleDir,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const counts = { pass: 0, fail: 0, skip: 0 };
  const output = new Map();
  const failed = [];
  for (const line of (result.stdout ?? "").split("\n")) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line);
    const key = `${event.Package} ${event.Test ?? ""}`;
    if (event.Action === "output") {
      if (!output.has(key)) output.set(key, []);
      output.get(key).push(event.Output);
      if (!event.Test && /^(ok|FAIL|\?)\s/.test(event.Output)) process.stdout.write(event.Output);
    } else if (event.Test && event.Action in counts) {
      counts[event.Action] += 1;
      if (event.Action === "fail") failed.push(key);
    }
  }
  for (const key of failed) process.stdout.write((output.get(key) ?? []).join(""));
  const skipped = counts.skip > 0 ? ` | ${counts.skip} skipped` : "";
  console.log(`      Tests  ${counts.pass} passed | ${counts.fail} failed${skipped} (go test)`);
  if (result.status !== 0) {
    if (failed.length === 0) process.stdout.write([...output.values()].flat().join(""));
    console.error("go-sdk: go test failed");
    process.exit(result.status ?? 1);
  }
}
