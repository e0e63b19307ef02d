import type { VCluster } from "@open-vcluster/api";
import { stringify } from "yaml";
import type { CertificateAuthority } from "./certificate-authority.js";
import { issueKubeconfigToken } from "./kubeconfig-token.js";

export type KubeconfigFormat = "default" | "exec" | "token";

export const DEFAULT_TOKEN_VALIDITY_HOURS = 24;
export const MAX_TOKEN_VALIDITY_HOURS = 720;
const CLIENT_CERTIFICATE_VALIDITY_MS = 365 * 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;

/** The credential plugin the "exec" format calls to fetch a fresh token. */
export const EXEC_COMMAND = "vcluster-api";

export interface BuildKubeconfigInput {
  vcluster: VCluster;
  format: KubeconfigFormat;
  now: Date;
  /** Lifetime of a "token" kubeconfig; 0 means 24 hours. */
  validityHours: number;
  /** Signs the "token" format's bearer token. */
  signingKey: Uint8Array;
  /** The server's CA: its certificate goes into every kubeconfig, it signs client certificates. */
  authority: CertificateAuthority;
}

export interface BuiltKubeconfig {
  yaml: string;
  /** When the embedded credentials stop working; undefined for "exec", which fetches them on demand. */
  expiresAt: Date | undefined;
}

/** vcluster's own naming for kube contexts, so switching between the CLIs feels the same. */
export function kubeconfigEntryName(vcluster: Pick<VCluster, "name" | "namespace">): string {
  return `vcluster_${vcluster.name}_${vcluster.namespace}`;
}

function apiServerEndpoint(vcluster: VCluster): string {
  return vcluster.status?.apiServerEndpoint || `https://${vcluster.name}.${vcluster.namespace}.vcluster.local:443`;
}

function base64(text: string): string {
  return Buffer.from(text).toString("base64");
}

function userEntry(input: BuildKubeconfigInput): { user: Record<string, unknown>; expiresAt: Date | undefined } {
  const { vcluster, now, signingKey } = input;
  switch (input.format) {
    case "default": {
      // A fresh key and certificate per kubeconfig: the virtual cluster's admin, as vcluster's
      // own kubeconfigs are (group system:masters), naming the vcluster it was issued for.
      const expiresAt = new Date(now.getTime() + CLIENT_CERTIFICATE_VALIDITY_MS);
      const issued = input.authority.issueClientCertificate({
        commonName: vcluster.owner || "admin",
        organizations: ["system:masters"],
        uri: `urn:open-vcluster:vcluster:${vcluster.id}`,
        notBefore: now,
        notAfter: expiresAt,
      });
      return {
        user: {
          "client-certificate-data": base64(issued.certificatePem),
          "client-key-data": base64(issued.privateKeyPem),
        },
        expiresAt,
      };
    }
    case "exec":
      return {
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1",
            command: EXEC_COMMAND,
            args: ["kubeconfig", "token", "--name", vcluster.name, "--namespace", vcluster.namespace],
            interactiveMode: "Never",
            provideClusterInfo: false,
          },
        },
        expiresAt: undefined,
      };
    case "token": {
      const hours = input.validityHours === 0 ? DEFAULT_TOKEN_VALIDITY_HOURS : input.validityHours;
      if (!Number.isInteger(hours) || hours < 0 || hours > MAX_TOKEN_VALIDITY_HOURS) {
        throw new RangeError(`validityHours must be an integer from 0 to ${MAX_TOKEN_VALIDITY_HOURS} (got ${hours})`);
      }
      const expiresAt = new Date(now.getTime() + hours * HOUR_MS);
      const token = issueKubeconfigToken(
        { vclusterId: vcluster.id, name: vcluster.name, namespace: vcluster.namespace, issuedAt: now, expiresAt },
        signingKey,
      );
      return { user: { token }, expiresAt };
    }
    default:
      throw new RangeError(`unknown kubeconfig format ${JSON.stringify(input.format)}`);
  }
}

/** Builds a kubeconfig (YAML, as kubectl reads it) whose single context points at the vcluster. */
export function buildKubeconfig(input: BuildKubeconfigInput): BuiltKubeconfig {
  const { vcluster, authority } = input;
  const entry = kubeconfigEntryName(vcluster);
  const { user, expiresAt } = userEntry(input);
  const document = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: entry,
        cluster: {
          server: apiServerEndpoint(vcluster),
          "certificate-authority-data": base64(authority.certificatePem),
        },
      },
    ],
    users: [{ name: entry, user }],
    contexts: [{ name: entry, context: { cluster: entry, user: entry } }],
    "current-context": entry,
    preferences: {},
  };
  return { yaml: stringify(document, { lineWidth: 0 }), expiresAt };
}
