import type { IssuedToken } from "@open-vcluster/core";
import { CliError } from "../errors.js";
import { ExitCode } from "../exit-codes.js";

/** How a context signs in with OpenID Connect: the issuer, the CLI's client id, the refresh token. */
export interface OidcLogin {
  issuer: string;
  clientId: string;
  /** Scopes asked for besides `openid offline_access`. */
  scopes?: string[];
  refreshToken?: string;
}

interface Endpoints {
  token_endpoint: string;
  device_authorization_endpoint?: string;
}

interface TokenResponse {
  id_token?: string;
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

async function discover(issuer: string): Promise<Endpoints> {
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new CliError(`cannot reach the issuer at ${url}: ${(error as Error).message}`, ExitCode.unavailable);
  }
  if (!response.ok)
    throw new CliError(`OpenID discovery at ${url} answered HTTP ${response.status}`, ExitCode.unavailable);
  const metadata = (await response.json()) as Partial<Endpoints> & { issuer?: string };
  if (metadata.issuer !== issuer)
    throw new CliError(`${url} names issuer ${metadata.issuer}, not ${issuer}`, ExitCode.general);
  if (!metadata.token_endpoint) throw new CliError(`${url} names no token endpoint`, ExitCode.general);
  return metadata as Endpoints;
}

async function post(url: string, form: Record<string, string>): Promise<{ status: number; body: TokenResponse }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json().catch(() => ({}))) as TokenResponse };
}

/** The token the API server checks: the ID token (audience: the CLI's client id), as kubectl's OIDC login does. */
function issued(body: TokenResponse): IssuedToken {
  const token = body.id_token ?? body.access_token;
  if (!token) throw new CliError("the issuer answered without an ID token", ExitCode.unauthorized);
  return { token };
}

export interface DeviceLoginResult {
  token: IssuedToken;
  refreshToken: string | undefined;
}

/**
 * The OAuth 2.0 device authorization grant (RFC 8628): shows where to sign in, then polls the
 * token endpoint at the interval the issuer asks for until the person approves or refuses.
 */
export async function deviceLogin(
  login: OidcLogin,
  tell: (verificationUri: string, userCode: string) => void,
  signal?: AbortSignal,
): Promise<DeviceLoginResult> {
  const endpoints = await discover(login.issuer);
  if (!endpoints.device_authorization_endpoint) {
    throw new CliError(`${login.issuer} does not offer the device authorization grant`, ExitCode.general);
  }
  const scope = ["openid", "offline_access", ...(login.scopes ?? [])].join(" ");
  const started = await fetch(endpoints.device_authorization_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ client_id: login.clientId, scope }),
  });
  const device = (await started.json().catch(() => ({}))) as {
    device_code?: string;
    user_code?: string;
    verification_uri?: string;
    verification_uri_complete?: string;
    interval?: number;
    expires_in?: number;
    error?: string;
    error_description?: string;
  };
  if (!started.ok || !device.device_code || !device.user_code || !device.verification_uri) {
    throw new CliError(
      `the issuer refused to start a sign-in: ${device.error_description ?? device.error ?? started.status}`,
      ExitCode.unauthorized,
    );
  }
  tell(device.verification_uri_complete ?? device.verification_uri, device.user_code);
  let interval = (device.interval ?? 5) * 1000;
  const deadline = Date.now() + (device.expires_in ?? 600) * 1000;
  while (Date.now() < deadline) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, interval);
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    });
    const { status, body } = await post(endpoints.token_endpoint, {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: device.device_code,
      client_id: login.clientId,
    });
    if (status === 200) return { token: issued(body), refreshToken: body.refresh_token };
    if (body.error === "authorization_pending") continue;
    if (body.error === "slow_down") {
      interval += 5000;
      continue;
    }
    const why = body.error === "access_denied" ? "the sign-in was refused" : (body.error_description ?? body.error);
    throw new CliError(`sign-in failed: ${why}`, ExitCode.unauthorized);
  }
  throw new CliError("sign-in timed out: the code expired before it was approved", ExitCode.timeout);
}

/** A fresh ID token from the refresh token; the issuer may hand back a new refresh token too. */
export async function refreshLogin(login: OidcLogin): Promise<DeviceLoginResult> {
  if (!login.refreshToken) {
    throw new CliError("this context has no sign-in yet: run `vcluster-api login`", ExitCode.unauthorized);
  }
  const endpoints = await discover(login.issuer);
  const { status, body } = await post(endpoints.token_endpoint, {
    grant_type: "refresh_token",
    refresh_token: login.refreshToken,
    client_id: login.clientId,
  });
  if (status !== 200) {
    throw new CliError(
      `the sign-in expired (${body.error_description ?? body.error ?? status}): run \`vcluster-api login\` again`,
      ExitCode.unauthorized,
    );
  }
  return { token: issued(body), refreshToken: body.refresh_token ?? login.refreshToken };
}
