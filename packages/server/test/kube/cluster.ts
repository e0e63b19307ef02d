import { type ChildProcess, execFile, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../../../..");

/** The cold build of the binaries takes minutes on a loaded 2-core machine. */
export const CLUSTER_SETUP_TIMEOUT_MS = 45 * 60_000;

export interface KubeTools {
  dir: string;
  bin(
    name: "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kubectl" | "etcd" | "kwok" | "helm",
  ): string;
  /** KWOK's own stage definitions (node ready + heartbeat, pod ready/complete/delete). */
  kwokStages: string;
}

/** Builds (first time) or finds (afterwards) the cluster binaries, keyed by the pins in tools/kube. */
export async function kubeTools(): Promise<KubeTools> {
  const { stdout } = await run("bash", [join(repoRoot, "tools/kube/build.sh")], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: CLUSTER_SETUP_TIMEOUT_MS,
  });
  const dir = stdout.trim().split("\n").at(-1) ?? "";
  return { dir, bin: (name) => join(dir, name), kwokStages: join(dir, "kwok-stages.yaml") };
}

export interface KubeCluster {
  tools: KubeTools;
  /** Kubeconfig of the cluster admin (group system:masters). */
  kubeconfig: string;
  /** The API server's URL on loopback. */
  server: string;
  /** PEM bundle the API server's certificate verifies against. */
  caPem: string;
  /** Bearer token of the cluster admin. */
  adminToken: string;
  /** Bearer token of a user with no permissions of its own (bind a role to "vcluster-api"). */
  restrictedToken: string;
  /** Scratch directory of this cluster (deleted by stop). */
  dir: string;
  kubectl(...args: string[]): Promise<string>;
  helm(...args: string[]): Promise<string>;
  /** A kubeconfig file for `token` (default: the admin's). */
  writeKubeconfig(file: string, token?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface KubeClusterOptions {
  /** Fake nodes registered with KWOK (default 1). */
  nodes?: number;
  /** Pre-created hostPath PersistentVolumes (no provisioner runs), 1Gi each (default 4). */
  persistentVolumes?: number;
}

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  log: string;
}

async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Resolves once `check` returns true; `check` is a probe of the real state, tried until the deadline. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, procs: Proc[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const died = procs.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (died) {
      const tail = (await readFile(died.log, "utf8").catch(() => "")).split("\n").slice(-30).join("\n");
      throw new Error(`${died.name} exited while waiting for ${what}:\n${tail}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    // Probing a socket: the pause only spaces the probes, the condition decides.
    await new Promise((r) => setTimeout(r, 100));
  }
}

function httpsStatus(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: test",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    "users:",
    "- name: test",
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: test",
    "  context:",
    "    cluster: test",
    "    user: test",
    "current-context: test",
    "",
  ].join("\n");
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK on loopback
 * ports, registers fake nodes that run pods without a container runtime, and waits until a
 * pod could be scheduled and become Ready. Everything is stopped and deleted by `stop()`.
 */
export async function startKubeCluster(options: KubeClusterOptions = {}): Promise<KubeCluster> {
  const tools = await kubeTools();
  const dir = await mkdtemp(join(tmpdir(), "ovc-kube-"));
  const procs: Proc[] = [];
  // Should the test process die without stop(), the cluster must not outlive it.
  const killAll = () => {
    for (const p of procs) p.child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  const stop = async () => {
    process.off("exit", killAll);
    for (const p of [...procs].reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
      const killer = setTimeout(() => p.child.kill("SIGKILL"), 10_000);
      await p.exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const start = (name: string, args: string[]) => {
    const log = join(dir, `${name}.log`);
    const out = createWriteStream(log);
    const child = spawn(tools.bin(name as Parameters<KubeTools["bin"]>[0]), args, {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    procs.push({ name, child, exited, log });
  };

  try {
    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const adminToken = randomBytes(24).toString("hex");
    const restrictedToken = randomBytes(24).toString("hex");
    await writeFile(
      join(dir, "tokens.csv"),
      `${adminToken},admin,admin-uid,"system:masters"\n${restrictedToken},vcluster-api,vcluster-api-uid\n`,
    );
    const sa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    await writeFile(join(dir, "sa.key"), sa.privateKey.export({ type: "pkcs1", format: "pem" }));
    await writeFile(join(dir, "sa.pub"), sa.publicKey.export({ type: "spki", format: "pem" }));

    start("etcd", [
      "--data-dir",
      join(dir, "etcd"),
      "--listen-client-urls",
      `http://127.0.0.1:${etcdClient}`,
      "--advertise-client-urls",
      `http://127.0.0.1:${etcdClient}`,
      "--listen-peer-urls",
      `http://127.0.0.1:${etcdPeer}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${etcdPeer}`,
      "--initial-cluster",
      `default=http://127.0.0.1:${etcdPeer}`,
      "--unsafe-no-fsync",
      "--log-level",
      "warn",
    ]);
    const certDir = join(dir, "apiserver");
    await mkdir(certDir);
    start("kube-apiserver", [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${certDir}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc",
      `--service-account-key-file=${join(dir, "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      // A loopback advertise address is refused by the endpoint reconciler.
      "--endpoint-reconciler-type=none",
      "--enable-priority-and-fairness=false",
      "--profiling=false",
      "--allow-privileged=true",
    ]);
    const server = `https://127.0.0.1:${apiPort}`;
    // The self-signed serving certificate is written once the server starts; it carries its CA.
    const certFile = join(certDir, "apiserver.crt");
    await until("the API server certificate", async () => existsSync(certFile), 120_000, procs);
    let caPem = "";
    await until(
      "the API server to be ready",
      async () => {
        caPem = await readFile(certFile, "utf8");
        return (await httpsStatus(`${server}/readyz`, caPem, adminToken)) === 200;
      },
      180_000,
      procs,
    );
    const writeKubeconfig = async (file: string, token = adminToken) => {
      await writeFile(file, kubeconfigYaml(server, caPem, token), { mode: 0o600 });
      return file;
    };
    const kubeconfig = await writeKubeconfig(join(dir, "admin.kubeconfig"));
    const kubectl = async (...args: string[]) =>
      (await run(tools.bin("kubectl"), ["--kubeconfig", kubeconfig, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    const helm = async (...args: string[]) =>
      (
        await run(tools.bin("helm"), ["--kubeconfig", kubeconfig, ...args], {
          maxBuffer: 64 * 1024 * 1024,
          env: helmEnv(dir),
        })
      ).stdout;

    start("kube-controller-manager", [
      `--kubeconfig=${kubeconfig}`,
      "--leader-elect=false",
      "--secure-port=0",
      "--use-service-account-credentials=false",
      `--service-account-private-key-file=${join(dir, "sa.key")}`,
      `--root-ca-file=${certFile}`,
      "--controllers=*",
      // Deleted namespaces and evicted pods are cleaned up quickly.
      "--concurrent-namespace-syncs=4",
    ]);
    start("kube-scheduler", [`--kubeconfig=${kubeconfig}`, "--leader-elect=false", "--secure-port=0"]);
    start("kwok", [
      `--kubeconfig=${kubeconfig}`,
      `--config=${tools.kwokStages}`,
      "--manage-all-nodes=false",
      "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
      "--cidr=10.244.0.0/16",
      "--node-ip=10.0.0.1",
      "--server-address=",
    ]);

    const nodes = options.nodes ?? 1;
    const manifests: string[] = [];
    for (let i = 0; i < nodes; i++) manifests.push(nodeManifest(`kwok-node-${i}`));
    for (let i = 0; i < (options.persistentVolumes ?? 4); i++)
      manifests.push(pvManifest(`pv-${i}`, join(dir, `pv-${i}`)));
    await writeFile(join(dir, "nodes.yaml"), manifests.join("---\n"));
    await kubectl("apply", "-f", join(dir, "nodes.yaml"));
    // Ready nodes (KWOK took them over) and the default service account (the controller
    // manager runs) are what pods need to be admitted and scheduled.
    await kubectl("wait", "--for=condition=Ready", "node", "--all", "--timeout=180s");
    await until(
      "the default service account",
      async () =>
        (await kubectl("get", "serviceaccount", "default", "-n", "default", "-o", "name")).includes("default"),
      180_000,
      procs,
    );
    return {
      tools,
      kubeconfig,
      server,
      caPem,
      adminToken,
      restrictedToken,
      dir,
      kubectl,
      helm,
      writeKubeconfig,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Helm keeps its caches and repository config in the cluster's scratch directory. */
export function helmEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HELM_CACHE_HOME: join(dir, "helm/cache"),
    HELM_CONFIG_HOME: join(dir, "helm/config"),
    HELM_DATA_HOME: join(dir, "helm/data"),
  };
}

function nodeManifest(name: string): string {
  return `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: ${name}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable:
    cpu: "32"
    memory: 256Gi
    ephemeral-storage: 1Ti
    pods: "110"
  capacity:
    cpu: "32"
    memory: 256Gi
    ephemeral-storage: 1Ti
    pods: "110"
`;
}

function pvManifest(name: string, path: string): string {
  return `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${name}
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath:
    path: ${path}
`;
}
