/** The tokens of one signed-in principal (a customer, or the operator console). */
export interface Tokens {
  accessToken: string;
  /** Customers only: client-credentials tokens are renewed by asking again. */
  refreshToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  scope: string;
  /** Shown in the header: the customer's email or the OAuth client id. */
  label: string;
}

export interface Session {
  /** The current tokens, or null when signed out. */
  current(): Tokens | null;
  set(tokens: Tokens | null): void;
  /** The access token, renewed first when it expires within a minute; null when signed out or renewal failed. */
  freshAccessToken(): Promise<string | null>;
  /** Renews now (one renewal at a time); false, and signed out, when that is impossible. */
  renew(): Promise<boolean>;
  /** For useSyncExternalStore. */
  subscribe(listener: () => void): () => void;
}

export interface SessionOptions {
  /** localStorage key; the tokens survive a reload. */
  storageKey: string;
  /** Gets new tokens for the current ones (refresh token, client credentials…); null when it cannot. */
  renewTokens(current: Tokens): Promise<Tokens | null>;
}

const RENEW_BEFORE_MS = 60_000;

function load(storageKey: string): Tokens | null {
  try {
    const raw = localStorage.getItem(storageKey);
    const parsed = raw ? (JSON.parse(raw) as Tokens) : null;
    return parsed && typeof parsed.accessToken === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** Tokens held in memory and mirrored to localStorage, renewed before they expire. */
export function createSession({ storageKey, renewTokens }: SessionOptions): Session {
  let tokens = load(storageKey);
  let renewing: Promise<boolean> | null = null;
  const listeners = new Set<() => void>();

  function set(next: Tokens | null) {
    tokens = next;
    try {
      if (next) localStorage.setItem(storageKey, JSON.stringify(next));
      else localStorage.removeItem(storageKey);
    } catch {
      // Private mode or a full quota: memory alone still works for this tab.
    }
    for (const l of listeners) l();
  }

  // Another tab signed in or out.
  window.addEventListener('storage', (e) => {
    if (e.key !== storageKey) return;
    tokens = load(storageKey);
    for (const l of listeners) l();
  });

  function renew(): Promise<boolean> {
    const current = tokens;
    if (!current) return Promise.resolve(false);
    renewing ??= renewTokens(current)
      .catch(() => null)
      .then((next) => {
        // Signed out (or in as someone else) meanwhile: keep what is there now.
        if (tokens === current) set(next);
        return next !== null;
      })
      .finally(() => {
        renewing = null;
      });
    return renewing;
  }

  return {
    current: () => tokens,
    set,
    renew,
    async freshAccessToken() {
      if (!tokens) return null;
      if (tokens.expiresAt - Date.now() < RENEW_BEFORE_MS && !(await renew())) return null;
      return tokens?.accessToken ?? null;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
