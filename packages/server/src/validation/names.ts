import { quote } from "./field-violation.js";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const MAX_VCLUSTER_NAME_LENGTH = 53;
export const MAX_DNS1123_LABEL_LENGTH = 63;
export const MAX_DNS1123_SUBDOMAIN_LENGTH = 253;

/** Problem with a DNS-1123 label (names, namespaces), or undefined when valid. */
export function dnsLabelProblem(value: string, maxLength = MAX_DNS1123_LABEL_LENGTH): string | undefined {
  if (value.length > maxLength) return `must be at most ${maxLength} characters (got ${value.length})`;
  if (!DNS1123_LABEL.test(value)) {
    return `must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (got ${quote(value)})`;
  }
  return undefined;
}

/** Problem with a DNS-1123 subdomain (object names such as service accounts and storage classes). */
export function dnsSubdomainProblem(value: string): string | undefined {
  if (value.length > MAX_DNS1123_SUBDOMAIN_LENGTH) {
    return `must be at most ${MAX_DNS1123_SUBDOMAIN_LENGTH} characters (got ${value.length})`;
  }
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return `must be a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (got ${quote(value)})`;
  }
  return undefined;
}

/** A host name is a subdomain whose dot-separated parts also fit DNS's 63-octet label limit. */
export function hostnameProblem(value: string): string | undefined {
  const problem = dnsSubdomainProblem(value);
  if (problem) return problem;
  const long = value.split(".").find((part) => part.length > MAX_DNS1123_LABEL_LENGTH);
  return long ? `each dot-separated part must be at most ${MAX_DNS1123_LABEL_LENGTH} characters` : undefined;
}
