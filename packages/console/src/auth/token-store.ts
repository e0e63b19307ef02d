// The token lives in sessionStorage: it survives reloads of the tab but not closing it, and is
// never shared with other tabs or written to disk the way localStorage would be.
const KEY = "open-vcluster.console.token";

export function readToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}
