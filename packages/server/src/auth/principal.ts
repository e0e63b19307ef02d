import { createContextKey } from "@connectrpc/connect";

/** Who is calling. Admins see everything; others see what they own or what their projects own. */
export interface Principal {
  subject: string;
  projects: string[];
  admin: boolean;
  /**
   * When the credentials that proved this identity expire. Streams opened with them end
   * then (UNAUTHENTICATED), so a watch cannot outlive its token; clients reconnect with a
   * fresh one and resume where they were.
   */
  expiresAt?: Date;
}

/** Without an authenticator every caller acts as this admin (the server then binds loopback only). */
export const ANONYMOUS_ADMIN: Principal = Object.freeze({ subject: "anonymous", projects: [], admin: true });

export const principalKey = createContextKey<Principal>(ANONYMOUS_ADMIN, { description: "open-vcluster principal" });
