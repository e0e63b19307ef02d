import { execFile } from "node:child_process";
import type { IssuedToken } from "@open-vcluster/core";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";

/** A credential command, as kubectl's exec plugins: run it, read the token it prints. */
export interface ExecCredential {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

interface ExecCredentialOutput {
  kind?: unknown;
  status?: { token?: unknown; expirationTimestamp?: unknown };
}

/**
 * Runs the command and reads its token: an ExecCredential document
 * (`client.authentication.k8s.io/v1`, so kubectl's plugins work unchanged) or a bare token.
 */
export function runCredentialCommand(
  exec: ExecCredential,
  env: Record<string, string | undefined>,
): Promise<IssuedToken> {
  return new Promise((resolve, reject) => {
    execFile(
      exec.command,
      exec.args ?? [],
      { env: { ...env, ...exec.env }, timeout: 60_000, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const why = stderr.trim() || error.message;
          reject(new CliError(`credential command ${exec.command} failed: ${why}`, ExitCode.unauthorized));
          return;
        }
        try {
          resolve(parseCredentialOutput(stdout));
        } catch (parseError) {
          reject(
            new CliError(`credential command ${exec.command}: ${(parseError as Error).message}`, ExitCode.unauthorized),
          );
        }
      },
    );
  });
}

export function parseCredentialOutput(stdout: string): IssuedToken {
  const text = stdout.trim();
  if (text === "") throw new Error("printed no token");
  if (!text.startsWith("{")) return { token: text };
  const document = JSON.parse(text) as ExecCredentialOutput;
  if (document.kind !== "ExecCredential" || typeof document.status?.token !== "string" || !document.status.token) {
    throw new Error("expected an ExecCredential with status.token");
  }
  const expires = document.status.expirationTimestamp;
  return {
    token: document.status.token,
    ...(typeof expires === "string" && expires ? { expiresAt: new Date(expires) } : {}),
  };
}
