// Accounts and tokens: /auth/signup, /auth/login, /auth/refresh, /auth/logout
// (under the base path: each workspace has its own, base.ts).
//
// The session lives in localStorage so a reload keeps you signed in and other
// tabs share it; one per workspace, since an origin's storage is shared by
// all of them and a workspace's tokens are valid there only. Tokens are
// refreshed before they expire (a timer, plus a check before every use, since
// timers do not run while a laptop sleeps).
// Refresh tokens rotate: the new one is always kept, and tabs take a Web Lock
// around a refresh so two tabs never spend the same refresh token.

import { apiPath, basePath } from './base';
import { jwtClaims } from './util';

export interface Session {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** When idToken expires, in ms since the epoch (client clock). */
  expiresAt: number;
  /** When the tokens were issued, in ms since the epoch (client clock). */
  issuedAt: number;
  userId: string;
}

interface TokenResponse {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: string;
}

export interface SignUpInput {
  email: string;
  password: string;
  username?: string;
  displayName?: string;
  /** The token of an invitation link (?invite=), for a workspace whose
   *  sign-up is by invitation. */
  invitation?: string;
}

/** An error from the /auth endpoints; code is the server's error code, or
 *  "Network" when the server could not be reached. */
export class AuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 0,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Per workspace; the default workspace keeps the names it always had, so
 *  tabs of an older client share them during an upgrade. */
const storageKey = basePath() === '/' ? 'confab.session.v1' : `confab.session.v1:${basePath()}`;
const refreshLock = basePath() === '/' ? 'confab.refresh' : `confab.refresh:${basePath()}`;
/** Refresh this long before expiry (or at 80% of a shorter lifetime). */
const refreshMarginMs = 60_000;

async function postAuth<T>(path: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(apiPath(path), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    throw new AuthError('Network', "Can't reach the server. Check your connection and try again.");
  }
  let data: any = null;
  try {
    data = await res.json();
  } catch {
    /* no JSON body */
  }
  if (!res.ok) {
    const e = data?.error;
    throw new AuthError(
      e?.code ?? `HTTP${res.status}`,
      e?.message ?? `The server answered ${res.status}.`,
      res.status,
    );
  }
  return data as T;
}

function fromTokens(t: TokenResponse): Session {
  const now = Date.now();
  const sub = jwtClaims(t.idToken).sub;
  return {
    idToken: t.idToken,
    accessToken: t.accessToken,
    refreshToken: t.refreshToken,
    issuedAt: now,
    expiresAt: now + Math.max(1, t.expiresIn) * 1000,
    userId: typeof sub === 'string' ? sub : '',
  };
}

function load(): Session | null {
  try {
    const raw = localStorage.getItem(storageKey);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s && s.idToken && s.refreshToken && s.userId ? s : null;
  } catch {
    return null;
  }
}

function save(s: Session | null) {
  try {
    if (s) localStorage.setItem(storageKey, JSON.stringify(s));
    else localStorage.removeItem(storageKey);
  } catch {
    /* private mode without storage: the session lives in memory only */
  }
}

/** Whether a token is too close to expiry to send: under 30 s left, or
 *  under a quarter of its lifetime when tokens live shorter than 2 minutes. */
function nearExpiry(s: Session): boolean {
  const margin = Math.min(30_000, (s.expiresAt - s.issuedAt) / 4);
  return s.expiresAt - Date.now() < margin;
}

type Why = 'signed-in' | 'refreshed' | 'signed-out' | 'expired';
type Listener = (s: Session | null, why: Why) => void;

class SessionManager {
  private current: Session | null = load();
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Promise<Session> | null = null;

  constructor() {
    window.addEventListener('storage', (e) => {
      if (e.key !== storageKey) return;
      const next = load();
      const had = this.current;
      this.current = next;
      this.schedule();
      if (!next && had) this.emit('signed-out');
      else if (next && !had) this.emit('signed-in');
      else if (next) this.emit('refreshed');
    });
    this.schedule();
  }

  get session(): Session | null {
    return this.current;
  }

  onChange(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(why: Why) {
    for (const l of [...this.listeners]) l(this.current, why);
  }

  private set(s: Session | null, why: Why) {
    this.current = s;
    save(s);
    this.schedule();
    this.emit(why);
  }

  private schedule() {
    clearTimeout(this.timer);
    const s = this.current;
    if (!s) return;
    const lifetime = s.expiresAt - s.issuedAt;
    const margin = Math.min(refreshMarginMs, lifetime * 0.2);
    const wait = Math.max(1000, s.expiresAt - margin - Date.now());
    this.timer = setTimeout(() => {
      this.refresh().catch(() => {
        /* network trouble: getIdToken retries on next use; retry on a timer too */
        if (this.current) this.timer = setTimeout(() => this.schedule(), 10_000);
      });
    }, Math.min(wait, 2 ** 31 - 1));
  }

  async signUp(input: SignUpInput): Promise<void> {
    const body: Record<string, string> = { email: input.email.trim(), password: input.password };
    if (input.username?.trim()) body.username = input.username.trim();
    if (input.displayName?.trim()) body.displayName = input.displayName.trim();
    if (input.invitation?.trim()) body.invitation = input.invitation.trim();
    await postAuth('/auth/signup', body);
    await this.signIn(input.email.trim(), input.password);
  }

  /** Signs in with an email address or a username. */
  async signIn(login: string, password: string): Promise<void> {
    const key = login.includes('@') ? 'email' : 'username';
    const t = await postAuth<TokenResponse>('/auth/login', { [key]: login.trim(), password });
    this.set(fromTokens(t), 'signed-in');
  }

  /** Revokes the refresh token (best effort) and forgets the session. */
  async signOut(): Promise<void> {
    const s = this.current;
    this.set(null, 'signed-out');
    if (s) {
      await postAuth('/auth/logout', { refreshToken: s.refreshToken }).catch(() => {});
    }
  }

  /** Forgets a session the server no longer accepts. */
  expire() {
    if (this.current) this.set(null, 'expired');
  }

  /** The id token to send, refreshed first when it is about to expire. */
  async getIdToken(): Promise<string> {
    const s = this.current;
    if (!s) throw new AuthError('NotAuthorized', 'You are signed out.');
    if (!nearExpiry(s)) return s.idToken;
    return (await this.refresh()).idToken;
  }

  /** Exchanges the refresh token for new tokens. Concurrent calls share one
   *  request; with force, refreshes even when another tab just did. */
  refresh(force = false): Promise<Session> {
    if (!this.inflight) {
      this.inflight = this.withLock(() => this.doRefresh(force)).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    if (!locks) return fn();
    return locks.request(refreshLock, fn) as Promise<T>;
  }

  private async doRefresh(force: boolean): Promise<Session> {
    const before = this.current;
    if (!before) throw new AuthError('NotAuthorized', 'You are signed out.');
    // Another tab may have refreshed while we waited for the lock.
    const stored = load();
    if (stored && stored.userId === before.userId && stored.refreshToken !== before.refreshToken) {
      this.current = stored;
      if (!force || !nearExpiry(stored)) {
        this.schedule();
        this.emit('refreshed');
        return stored;
      }
    }
    const s = this.current!;
    try {
      const t = await postAuth<TokenResponse>('/auth/refresh', { refreshToken: s.refreshToken });
      const next = fromTokens(t);
      if (!next.userId) next.userId = s.userId;
      this.set(next, 'refreshed');
      return next;
    } catch (e) {
      if (e instanceof AuthError && e.status >= 400 && e.status < 500 && e.code !== 'TooManyRequests') {
        this.expire();
      }
      throw e;
    }
  }
}

export const session = new SessionManager();
