import { LabelSelectorError, parseLabelSelector } from "@open-vcluster/core";
import { type FieldViolation, quote } from "./field-violation.js";
import { dnsLabelProblem, MAX_DNS1123_LABEL_LENGTH } from "./names.js";

/** Upper bound for every *_seconds field of the API. */
export const MAX_DURATION_SECONDS = 3600;
/** Ids are server-assigned UUIDs; anything much longer is certainly not one of ours. */
const MAX_ID_LENGTH = 128;

export function checkRequiredName(
  value: string,
  field: string,
  violations: FieldViolation[],
  maxLength = MAX_DNS1123_LABEL_LENGTH,
): void {
  if (value === "") {
    violations.push({ field, description: "is required" });
    return;
  }
  checkOptionalName(value, field, violations, maxLength);
}

export function checkOptionalName(
  value: string,
  field: string,
  violations: FieldViolation[],
  maxLength = MAX_DNS1123_LABEL_LENGTH,
): void {
  if (value === "") return;
  const problem = dnsLabelProblem(value, maxLength);
  if (problem) violations.push({ field, description: problem });
}

export function checkId(value: string, field: string, violations: FieldViolation[], required: boolean): void {
  if (value === "") {
    if (required) violations.push({ field, description: "is required" });
  } else if (value.length > MAX_ID_LENGTH || /[\s\p{Cc}]/u.test(value)) {
    violations.push({ field, description: `must be an id returned by the server (got ${quote(value)})` });
  }
}

export function checkSeconds(value: number, field: string, violations: FieldViolation[]): void {
  if (value < 0 || value > MAX_DURATION_SECONDS) {
    violations.push({ field, description: `must be between 0 and ${MAX_DURATION_SECONDS} seconds (got ${value})` });
  }
}

export function checkPageSize(value: number, field: string, violations: FieldViolation[]): void {
  if (value < 0) violations.push({ field, description: `must not be negative (got ${value})` });
}

/** Longest label selector accepted, in characters. */
export const MAX_LABEL_SELECTOR_LENGTH = 4096;
/**
 * Most requirements in one label selector. Every store evaluates a selector within these bounds
 * (SQLite translates each requirement into SQL, whose expression depth is limited to 1000).
 */
export const MAX_LABEL_SELECTOR_REQUIREMENTS = 100;

export function checkLabelSelector(text: string, field: string, violations: FieldViolation[]): void {
  if (text.length > MAX_LABEL_SELECTOR_LENGTH) {
    violations.push({
      field,
      description: `must be at most ${MAX_LABEL_SELECTOR_LENGTH} characters (got ${text.length})`,
    });
    return;
  }
  try {
    const { requirements } = parseLabelSelector(text);
    if (requirements.length > MAX_LABEL_SELECTOR_REQUIREMENTS) {
      violations.push({
        field,
        description: `must have at most ${MAX_LABEL_SELECTOR_REQUIREMENTS} requirements (got ${requirements.length})`,
      });
    }
  } catch (error) {
    if (!(error instanceof LabelSelectorError)) throw error;
    violations.push({ field, description: error.message });
  }
}
