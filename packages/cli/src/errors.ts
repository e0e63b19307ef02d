import {
  errorDetail,
  isAborted,
  isAlreadyExists,
  isDeadlineExceeded,
  isFailedPrecondition,
  isInvalidArgument,
  isNotFound,
  isOutOfRange,
  isPermissionDenied,
  isUnauthenticated,
  isUnavailable,
  WaitFailedError,
  WaitTimeoutError,
} from "@open-vcluster/core";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";

/** A mistake in how the command was called (bad flag value, missing argument, unreadable file). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A local condition that maps to a specific exit code (e.g. "not found" found by the CLI itself). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = "CliError";
  }
}

const byServerCode: [(error: unknown) => boolean, ExitCodeValue][] = [
  [isNotFound, ExitCode.notFound],
  [isAlreadyExists, ExitCode.conflict],
  [isFailedPrecondition, ExitCode.conflict],
  [isAborted, ExitCode.conflict],
  [isUnavailable, ExitCode.unavailable],
  [isDeadlineExceeded, ExitCode.timeout],
  [isUnauthenticated, ExitCode.unauthorized],
  [isPermissionDenied, ExitCode.unauthorized],
  [isInvalidArgument, ExitCode.invalidArgument],
  [isOutOfRange, ExitCode.invalidArgument],
];

/**
 * A CLI error raised while a call was being made (a credential command failing, a sign-in
 * that expired) reaches us wrapped in a ConnectError; what the user needs is the CLI error.
 */
function unwrap(error: unknown): unknown {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return cause instanceof CliError || cause instanceof UsageError ? cause : error;
}

export function exitCodeFor(thrown: unknown): ExitCodeValue {
  const error = unwrap(thrown);
  if (error instanceof UsageError) return ExitCode.usage;
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof WaitTimeoutError) return ExitCode.timeout;
  if (error instanceof WaitFailedError) return ExitCode.general;
  for (const [matches, code] of byServerCode) if (matches(error)) return code;
  return ExitCode.general;
}

/** The server's own words: ConnectError.message carries a "[code]" prefix that users need not see. */
function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const raw = (error as { rawMessage?: unknown }).rawMessage;
    return typeof raw === "string" && raw !== "" ? raw : error.message;
  }
  return String(error);
}

/** The lines printed for a failed command: the message, then the server's field and reason. */
export function describeError(thrown: unknown, serverUrl?: string): string[] {
  const error = unwrap(thrown);
  const lines = [`error: ${messageOf(error)}`];
  const detail = errorDetail(error);
  if (detail?.field) lines.push(`  field:  ${detail.field}`);
  if (detail?.reason) lines.push(`  reason: ${detail.reason}`);
  if (error instanceof WaitFailedError && error.reason) lines.push(`  reason: ${error.reason}`);
  if (isUnavailable(error) && serverUrl && !detail) {
    lines.push(`  hint:   is the server running at ${serverUrl}? (set --server, VCLUSTER_API_SERVER or a context)`);
  }
  if (isUnauthenticated(error) && serverUrl)
    lines.push("  hint:   set --token, VCLUSTER_API_TOKEN or a context token, or run `vcluster-api login`");
  return lines;
}
