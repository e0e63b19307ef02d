import type { Principal } from "./principal.js";

/** How token claims (or TokenReview user info) become a principal. */
export interface ClaimMapping {
  /** Claim holding the subject; dotted paths reach into objects. Default "sub". */
  subject?: string;
  /** Prepended to the subject, so subjects of different issuers cannot collide (e.g. "oidc:"). */
  subjectPrefix?: string;
  /** Claim holding the caller's groups (a list or one string), e.g. "groups" or "realm_access.roles". */
  groups?: string;
  /** Only groups with this prefix are projects, named without it (e.g. "vcluster-project:"). Default: every group. */
  projectPrefix?: string;
  /** Membership in any of these groups makes the caller an admin. */
  adminGroups?: string[];
}

export const DEFAULT_CLAIM_MAPPING = { subject: "sub", groups: "groups" } as const;

function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function stringList(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

/** Returns the principal, or the reason the claims cannot name one. */
export function groupsToPrincipal(subject: string, groups: readonly string[], mapping: ClaimMapping): Principal {
  const prefix = mapping.projectPrefix;
  const projects = groups
    .filter((g) => prefix === undefined || g.startsWith(prefix))
    .map((g) => (prefix === undefined ? g : g.slice(prefix.length)))
    .filter((p) => p !== "");
  const admins = new Set(mapping.adminGroups ?? []);
  return Object.freeze({
    subject: `${mapping.subjectPrefix ?? ""}${subject}`,
    projects: [...new Set(projects)],
    admin: groups.some((g) => admins.has(g)),
  });
}

export function claimsToPrincipal(claims: Record<string, unknown>, mapping: ClaimMapping): Principal | string {
  const subjectClaim = mapping.subject ?? DEFAULT_CLAIM_MAPPING.subject;
  const subject = claimAt(claims, subjectClaim);
  if (typeof subject !== "string" || subject === "") return `claim "${subjectClaim}" is missing or not a string`;
  const groups = stringList(claimAt(claims, mapping.groups ?? DEFAULT_CLAIM_MAPPING.groups));
  return groupsToPrincipal(subject, groups, mapping);
}
