import { createHash } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { AuthenticationV1Api, AuthorizationV1Api, KubeConfig, type V1UserInfo } from "@kubernetes/client-node";
import { decodeJwt } from "jose";
import { apiError } from "../errors.js";
import { type ClaimMapping, groupsToPrincipal } from "./claims.js";
import type { Principal } from "./principal.js";
import { rejected, type TokenVerdict, type TokenVerifier, UNRECOGNISED } from "./token-verifier.js";

/** A Kubernetes RBAC check: may the caller `verb` the `resource` of API `group`? */
export interface AccessCheck {
  verb: string;
  resource: string;
  group?: string;
}

export interface TokenReviewOptions {
  /** The host cluster: a kubeconfig path (and context), or the in-cluster service account when absent. */
  kubeconfig?: string;
  context?: string;
  /** Or a ready KubeConfig (the Kubernetes provider's own connection). */
  kubeConfig?: KubeConfig;
  /** Audiences the token must be meant for (TokenReview spec.audiences); default: the API server's. */
  audiences?: string[];
  /** Only JWTs from these issuers go to the cluster; default: every token earlier verifiers did not recognise. */
  issuers?: string[];
  /** Maps the reviewed user's groups to projects and admin; the subject is the username. */
  claims?: Pick<ClaimMapping, "subjectPrefix" | "projectPrefix" | "adminGroups">;
  /** SubjectAccessReview the caller must pass to use the API at all (PERMISSION_DENIED otherwise). */
  requireAccess?: AccessCheck;
  /** SubjectAccessReview that makes the caller an admin. */
  adminAccess?: AccessCheck;
  /** How long a review is reused for the same token (default 10 s; 0 = ask every time). */
  cacheTtlMs?: number;
  now?: () => Date;
}

interface Cached {
  verdict: TokenVerdict;
  until: number;
}

const CACHE_LIMIT = 10_000;

export function kubeConfigFor(options: Pick<TokenReviewOptions, "kubeconfig" | "context" | "kubeConfig">): KubeConfig {
  if (options.kubeConfig) return options.kubeConfig;
  const config = new KubeConfig();
  if (options.kubeconfig) {
    config.loadFromFile(options.kubeconfig);
    if (options.context) config.setCurrentContext(options.context);
  } else {
    config.loadFromCluster();
  }
  return config;
}

/**
 * Kubernetes service-account (and any cluster-issued) tokens, checked by the cluster itself
 * through the TokenReview API, optionally authorised with SubjectAccessReview. Reviews are
 * cached briefly by token digest, as the API server's own webhook authenticator does.
 */
export class TokenReviewVerifier implements TokenVerifier {
  readonly name = "tokenreview";
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly options: TokenReviewOptions) {
    const config = kubeConfigFor(options);
    this.authn = config.makeApiClient(AuthenticationV1Api);
    this.authz = config.makeApiClient(AuthorizationV1Api);
  }

  async verify(token: string): Promise<TokenVerdict> {
    if (this.options.issuers && !this.options.issuers.includes(issuerOf(token) ?? "")) return UNRECOGNISED;
    const key = createHash("sha256").update(token).digest("base64");
    const now = (this.options.now?.() ?? new Date()).getTime();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.verdict;
    const verdict = await this.review(token);
    const ttl = this.options.cacheTtlMs ?? 10_000;
    if (ttl > 0) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
      const expires = verdict.kind === "accepted" ? verdict.expiresAt?.getTime() : undefined;
      this.cache.set(key, { verdict, until: Math.min(now + ttl, expires ?? Number.POSITIVE_INFINITY) });
    }
    return verdict;
  }

  private async review(token: string): Promise<TokenVerdict> {
    const review = await this.call(() =>
      this.authn.createTokenReview({
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenReview",
          spec: { token, ...(this.options.audiences ? { audiences: this.options.audiences } : {}) },
        },
      }),
    );
    const status = review.status;
    if (!status?.authenticated || !status.user?.username) {
      return rejected(`the cluster did not authenticate the token${status?.error ? `: ${status.error}` : ""}`);
    }
    const user = status.user;
    let principal: Principal = groupsToPrincipal(user.username ?? "", user.groups ?? [], this.options.claims ?? {});
    if (this.options.requireAccess && !(await this.allowed(user, this.options.requireAccess))) {
      return {
        kind: "denied",
        reason: `SubjectAccessReview refused ${describe(this.options.requireAccess)} to ${user.username}`,
      };
    }
    if (!principal.admin && this.options.adminAccess && (await this.allowed(user, this.options.adminAccess))) {
      principal = Object.freeze({ ...principal, admin: true });
    }
    const exp = expiryOf(token);
    return { kind: "accepted", principal, ...(exp ? { expiresAt: exp } : {}) };
  }

  private async allowed(user: V1UserInfo, check: AccessCheck): Promise<boolean> {
    const review = await this.call(() =>
      this.authz.createSubjectAccessReview({
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: user.username ?? "",
            ...(user.uid ? { uid: user.uid } : {}),
            groups: user.groups ?? [],
            ...(user.extra ? { extra: user.extra } : {}),
            resourceAttributes: { verb: check.verb, resource: check.resource, group: check.group ?? "" },
          },
        },
      }),
    );
    return review.status?.allowed === true;
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (error instanceof ConnectError) throw error;
      const refusal = apiError(
        Code.Unavailable,
        "UNAVAILABLE",
        "the cluster that reviews tokens cannot be reached; try again",
      );
      refusal.cause = error; // logged by the chain, never sent
      throw refusal;
    }
  }
}

function describe(check: AccessCheck): string {
  return `${check.verb} ${check.resource}${check.group ? `.${check.group}` : ""}`;
}

function issuerOf(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}

function expiryOf(token: string): Date | undefined {
  try {
    const exp = decodeJwt(token).exp;
    return exp ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}
