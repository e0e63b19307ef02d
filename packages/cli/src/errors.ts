import { ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema, type FieldViolation } from "@open-vcluster/api";
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
import { humanizePhases } from "./output/phase-names.js";
import { flagForField } from "./spec/flag-for-field.js";

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

/**
 * Every field violation the server reported, read from the proto's ErrorDetail itself (the
 * SDK's decoded detail carries only the first field), and how many it left out.
 */
export function violationsOf(error: unknown): { violations: FieldViolation[]; omitted: number } {
  if (!(error instanceof ConnectError)) return { violations: [], omitted: 0 };
  const [detail] = error.findDetails(ErrorDetailSchema);
  return { violations: detail?.violations ?? [], omitted: detail?.omittedViolations ?? 0 };
}

function fieldText(field: string): string {
  const flag = flagForField(field);
  return flag ? `${field} (${flag})` : field;
}

/** The lines printed for a failed command: the message, the field (and its flag), the reason, every violation. */
export function describeError(thrown: unknown, serverUrl?: string): string[] {
  const error = unwrap(thrown);
  const lines = [`error: ${humanizePhases(messageOf(error))}`];
  const detail = errorDetail(error);
  const { violations, omitted } = violationsOf(error);
  if (detail?.field) lines.push(`  field:  ${fieldText(detail.field)}`);
  if (detail?.reason) lines.push(`  reason: ${detail.reason}`);
  if (violations.length > 1 || omitted > 0) {
    lines.push(`  violations (${violations.length + omitted}):`);
    for (const v of violations) lines.push(`    - ${fieldText(v.field)}: ${humanizePhases(v.description)}`);
    if (omitted > 0) lines.push(`    … and ${omitted} more the server did not list`);
  }
  if (error instanceof WaitFailedError && error.reason) lines.push(`  reason: ${error.reason}`);
  if (isUnavailable(error) && serverUrl && !detail) {
    lines.push(`  hint:   is the server running at ${serverUrl}? (set --server, VCLUSTER_API_SERVER or a context)`);
  }
  if (isUnauthenticated(error) && serverUrl)
    lines.push("  hint:   set --token, VCLUSTER_API_TOKEN or a context token, or run `vcluster-api login`");
  return lines;
}
