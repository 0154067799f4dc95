/**
 * The API token the user logged in with. "Remember me" keeps it in localStorage (survives a browser restart);
 * otherwise sessionStorage (gone with the tab). Components subscribe so a 401 anywhere logs the whole app out.
 */
const KEY = 'weaver.apiToken';
const listeners = new Set<() => void>();

function storages(): Storage[] {
  const found: Storage[] = [];
  try {
    found.push(window.sessionStorage, window.localStorage);
  } catch {
    // Storage can be disabled (privacy mode); the token then lives for this page only.
  }
  return found;
}

let memoryToken: string | null = null;

export function readToken(): string | null {
  for (const s of storages()) {
    const v = s.getItem(KEY);
    if (v) return v;
  }
  return memoryToken;
}

export function saveToken(token: string, remember: boolean): void {
  memoryToken = token;
  for (const s of storages()) s.removeItem(KEY);
  const [session, local] = storages();
  (remember ? local : session)?.setItem(KEY, token);
  notify();
}

export function clearToken(): void {
  memoryToken = null;
  for (const s of storages()) s.removeItem(KEY);
  notify();
}

export function subscribeToken(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const l of listeners) l();
}
