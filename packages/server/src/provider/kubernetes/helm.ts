import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Values } from "./values.js";

/** Where the chart comes from: a repository URL, an OCI registry, or a local directory/archive. */
export interface ChartSource {
  /** https://… repository, oci://… registry, or a local path (then `name` is ignored). */
  repo: string;
  name: string;
  /** Empty = the newest the repository offers. */
  version: string;
}

export const DEFAULT_CHART: ChartSource = { repo: "https://charts.loft.sh", name: "vcluster", version: "" };

export interface HelmConnection {
  /** The helm binary (default: `helm` on PATH). */
  binary: string;
  kubeconfig?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
}

/** One release as `helm status` / `helm list` report it. */
export interface HelmRelease {
  name: string;
  namespace: string;
  revision: number;
  status: string;
  chartName: string;
  chartVersion: string;
  appVersion: string;
}

/** A failure of the helm CLI, with what it printed. */
export class HelmError extends Error {
  constructor(
    readonly args: string[],
    readonly stderr: string,
  ) {
    super(`helm ${args[0]} failed: ${stderr.trim().split("\n").slice(-3).join(" ") || "no output"}`);
    this.name = "HelmError";
  }

  get notFound(): boolean {
    return /release: not found|not found/i.test(this.stderr);
  }
}

/** Helm's `chart` field is "<name>-<version>"; the version starts at the first "-<digit>". */
export function splitChart(chart: string): { name: string; version: string } {
  const match = /^(.*?)-(v?\d.*)$/.exec(chart);
  return match ? { name: match[1] ?? chart, version: match[2] ?? "" } : { name: chart, version: "" };
}

/** Drives the helm CLI; every call is bounded and aborts with the operation. */
export class Helm {
  constructor(private readonly connection: HelmConnection) {}

  private exec(args: string[], signal?: AbortSignal, timeoutMs = 15 * 60_000): Promise<string> {
    const full = [...args];
    if (this.connection.kubeconfig) full.push("--kubeconfig", this.connection.kubeconfig);
    if (this.connection.context) full.push("--kube-context", this.connection.context);
    return new Promise((resolve, reject) => {
      execFile(
        this.connection.binary,
        full,
        {
          maxBuffer: 64 * 1024 * 1024,
          timeout: timeoutMs,
          ...(signal ? { signal } : {}),
          ...(this.connection.env ? { env: this.connection.env } : {}),
        },
        (error, stdout, stderr) => {
          if (error) {
            if ((error as NodeJS.ErrnoException).code === "ENOENT")
              reject(new Error(`helm binary "${this.connection.binary}" not found (install helm or pass --helm)`));
            else if (signal?.aborted) reject(signal.reason ?? error);
            else reject(new HelmError(args, stderr || error.message));
            return;
          }
          resolve(stdout);
        },
      );
    });
  }

  private chartArgs(chart: ChartSource): string[] {
    const version = chart.version ? ["--version", chart.version] : [];
    if (chart.repo.startsWith("oci://")) return [`${chart.repo.replace(/\/$/, "")}/${chart.name}`, ...version];
    if (/^https?:\/\//.test(chart.repo)) return [chart.name, "--repo", chart.repo, ...version];
    return [chart.repo, ...version];
  }

  /** install (revision 1) or upgrade (next revision) with exactly these values. */
  async apply(
    mode: "install" | "upgrade",
    release: { name: string; namespace: string },
    chart: ChartSource,
    values: Values,
    options: { signal?: AbortSignal; timeoutSeconds: number },
  ): Promise<HelmRelease> {
    const dir = await mkdtemp(join(tmpdir(), "vcluster-values-"));
    try {
      const file = join(dir, "values.yaml");
      await writeFile(file, stringify(values), { mode: 0o600 });
      await this.exec(
        [
          mode,
          release.name,
          ...this.chartArgs(chart),
          "--namespace",
          release.namespace,
          "--values",
          file,
          // Upgrades replace the values instead of layering them on the previous revision's.
          ...(mode === "upgrade" ? ["--reset-values"] : []),
          "--timeout",
          `${options.timeoutSeconds}s`,
          "--output",
          "json",
        ],
        options.signal,
        (options.timeoutSeconds + 60) * 1000,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const status = await this.status(release.name, release.namespace, options.signal);
    if (!status) throw new Error(`helm ${mode} of ${release.namespace}/${release.name} left no release`);
    return status;
  }

  /** The release's current revision, or undefined when there is none. */
  async status(name: string, namespace: string, signal?: AbortSignal): Promise<HelmRelease | undefined> {
    const listed = await this.list(namespace, signal);
    return listed.find((r) => r.name === name);
  }

  /** Releases of every status in one namespace (all namespaces when namespace is undefined). */
  async list(namespace: string | undefined, signal?: AbortSignal): Promise<HelmRelease[]> {
    const scope = namespace ? ["--namespace", namespace] : ["--all-namespaces"];
    const out = await this.exec(["list", ...scope, "--all", "--output", "json", "--max", "0"], signal, 60_000);
    const rows = (JSON.parse(out || "[]") ?? []) as {
      name: string;
      namespace: string;
      revision: string;
      status: string;
      chart: string;
      app_version: string;
    }[];
    return rows.map((row) => {
      const chart = splitChart(row.chart);
      return {
        name: row.name,
        namespace: row.namespace,
        revision: Number(row.revision),
        status: row.status,
        chartName: chart.name,
        chartVersion: chart.version,
        appVersion: row.app_version,
      };
    });
  }

  /** The user-supplied values of the current revision. */
  async values(name: string, namespace: string, signal?: AbortSignal): Promise<Values> {
    const out = await this.exec(["get", "values", name, "--namespace", namespace, "--output", "json"], signal, 60_000);
    return (JSON.parse(out || "null") as Values | null) ?? {};
  }

  /** The rendered manifest of the current revision. */
  async manifest(name: string, namespace: string, signal?: AbortSignal): Promise<string> {
    return await this.exec(["get", "manifest", name, "--namespace", namespace], signal, 60_000);
  }

  async uninstall(
    name: string,
    namespace: string,
    options: { signal?: AbortSignal; timeoutSeconds: number; wait: boolean },
  ): Promise<void> {
    try {
      await this.exec(
        [
          "uninstall",
          name,
          "--namespace",
          namespace,
          "--timeout",
          `${options.timeoutSeconds}s`,
          ...(options.wait ? ["--wait"] : []),
        ],
        options.signal,
        (options.timeoutSeconds + 60) * 1000,
      );
    } catch (error) {
      if (error instanceof HelmError && error.notFound) return;
      throw error;
    }
  }
}
