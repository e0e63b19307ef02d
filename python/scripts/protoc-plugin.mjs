// Runs a protoc plugin from the Python SDK's locked environment, so `buf generate` uses the
// pinned protoc-gen-py and protoc-gen-connectrpc without anything installed globally.
//
//   node python/scripts/protoc-plugin.mjs <plugin>   (buf.gen.yaml runs it)
import { spawnSync } from "node:child_process";
import { tool } from "./env.mjs";

const [plugin] = process.argv.slice(2);
if (plugin !== "protoc-gen-py" && plugin !== "protoc-gen-connectrpc") {
  console.error("usage: node python/scripts/protoc-plugin.mjs protoc-gen-py|protoc-gen-connectrpc");
  process.exit(2);
}
const result = spawnSync(tool(plugin), process.argv.slice(3), { stdio: "inherit" });
if (result.error) throw result.error;
process.exit(result.status ?? 1);
