/** Where the token lives: this tab only (sessionStorage), gone when the tab closes. */
const key = "buildplane.token";

export function readToken(): string | undefined {
  return sessionStorage.getItem(key) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(key, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(key);
}
