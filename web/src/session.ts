/** The API key lives in session storage only: gone with the tab, never in a URL. */
const KEY = 'calldesk.apiKey';
const listeners = new Set<() => void>();

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener();
}

export function onSignOut(listener: () => void): void {
  listeners.add(listener);
}
