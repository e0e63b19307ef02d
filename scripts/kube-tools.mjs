#!/usr/bin/env node
// The Kubernetes command line tools the tests drive (kubectl, helm, and the test cluster's
// kube-apiserver, etcd, KWOK …) all come from one pinned Go module, `tools/kube`, built once by
// `tools/kube/build.sh` into a cache outside the checkout. This resolves one of them by name.
//
//   node scripts/kube-tools.mjs helm     # prints e.g. ~/.cache/open-vcluster/kube-tools/<key>/helm
import { execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function kubeToolsDir() {
  const stdout = execFileSync("bash", [join(root, "tools/kube/build.sh")], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const dir = stdout.trim().split("\n").at(-1) ?? "";
  if (dir === "") throw new Error("kube-tools: tools/kube/build.sh printed no directory");
  return dir;
}

export function ensureKubeTool(name) {
  return join(kubeToolsDir(), name);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const name = process.argv[2];
  if (!name) {
    console.error("usage: node scripts/kube-tools.mjs <kubectl|helm|kube-apiserver|etcd|kwok|…>");
    process.exit(2);
  }
  try {
    console.log(ensureKubeTool(name));
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
