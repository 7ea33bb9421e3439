// The ONE place that knows how the browser keeps a session. Adjust here when the gateway's
// cookie contract changes; nothing else in the app reads cookies or handles tokens.
//
// - The access token lives in this module's memory only: never localStorage, sessionStorage,
//   IndexedDB or a cookie written by script. A reload loses it, and `restore()` gets a new one.
// - The refresh token is never seen by script: the gateway keeps it in an HttpOnly cookie that
//   the browser sends on POST /api/v1/auth/refresh (`credentials: 'include'`). Any
//   `refresh_token` in a response body is ignored.
// - Refresh and logout carry the double-submit CSRF header X-CSRF-Token, whose value the
//   gateway also sets in the non-HttpOnly cookie `restinu_csrf`.

import { ApiError, errorFromResponse, syntheticProblem } from './problem';

export const CSRF_COOKIE = 'restinu_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
export const LOGIN_PATH = '/api/v1/auth/login';
export const REFRESH_PATH = '/api/v1/auth/refresh';
export const LOGOUT_PATH = '/api/v1/auth/logout';
/** Refresh this long before the access token expires. */
const REFRESH_EARLY_MS = 30_000;
/** The Web Lock (per origin, shared by every tab) that refreshes hold. */
export const REFRESH_LOCK = 'restinu-refresh';

interface TokenAnswer {
  access_token?: unknown;
  expires_in?: unknown;
}

let accessToken: string | null = null;
let expiresAt = 0;
let timer: ReturnType<typeof setTimeout> | null = null;
let inFlight: Promise<boolean> | null = null;
const listeners = new Set<(signedIn: boolean) => void>();

/** The value of a cookie readable by script, or null. */
export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null;
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return part.slice(eq + 1).trim();
      }
    }
  }
  return null;
}

function csrfHeaders(): Record<string, string> {
  const token = readCookie(CSRF_COOKIE);
  return token ? { [CSRF_HEADER]: token } : {};
}

function notify(): void {
  for (const l of listeners) l(accessToken !== null);
}

function schedule(): void {
  if (timer !== null) clearTimeout(timer);
  timer = null;
  if (accessToken === null) return;
  const wait = Math.max(expiresAt - Date.now() - REFRESH_EARLY_MS, 5_000);
  timer = setTimeout(() => {
    void refresh();
  }, wait);
}

function accept(body: TokenAnswer): void {
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new ApiError(syntheticProblem(502, 'The sign-in answer had no access token.'));
  }
  const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 300;
  accessToken = body.access_token;
  expiresAt = Date.now() + seconds * 1000;
  schedule();
  notify();
}

/** The access token for an Authorization header, or null when signed out. */
export function getAccessToken(): string | null {
  return accessToken;
}

export function isSignedIn(): boolean {
  return accessToken !== null;
}

/** Called with true/false whenever the session starts or ends; returns the unsubscribe. */
export function onSessionChange(listener: (signedIn: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Forgets the access token (the cookie, if any, is the gateway's to clear). */
export function clearSession(): void {
  const was = accessToken !== null;
  accessToken = null;
  expiresAt = 0;
  if (timer !== null) clearTimeout(timer);
  timer = null;
  if (was) notify();
}

async function post(path: string, body: unknown, withCsrf: boolean): Promise<Response> {
  try {
    return await fetch(path, {
      method: 'POST',
      credentials: 'include',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json, application/problem+json',
        ...(withCsrf ? csrfHeaders() : {}),
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(syntheticProblem(0));
  }
}

/** Signs in; throws ApiError (invalid-credentials, too-many-login-attempts, …) on failure. */
export async function login(email: string, password: string): Promise<void> {
  const res = await post(LOGIN_PATH, { email, password }, false);
  if (!res.ok) throw await errorFromResponse(res);
  accept((await res.json()) as TokenAnswer);
}

/**
 * Runs `fn` holding the origin-wide refresh lock, so that the tabs of this browser refresh one
 * after another. The refresh token is rotated on every use and a reused one revokes the session:
 * two tabs opened (or restored) at once would otherwise both send the same cookie, and the
 * second would sign every tab out. In turn, each sends the cookie the one before it received.
 * Browsers without the Web Locks API just run it.
 */
function oneTabAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? (navigator as { locks?: LockManager }).locks : undefined;
  if (!locks || typeof locks.request !== 'function') return fn();
  return locks.request(REFRESH_LOCK, { mode: 'exclusive' }, fn) as Promise<T>;
}

/**
 * Gets a new access token with the refresh cookie. One refresh at a time: callers that ask
 * while one runs share its outcome, and other tabs wait for it (oneTabAtATime). False (and
 * signed out) when the cookie is gone or refused.
 */
export function refresh(): Promise<boolean> {
  if (inFlight) return inFlight;
  inFlight = (async () => {
    try {
      // The CSRF cookie is read inside the lock: the tab before may have just replaced it.
      const res = await oneTabAtATime(() => post(REFRESH_PATH, {}, true));
      if (!res.ok) {
        clearSession();
        return false;
      }
      accept((await res.json()) as TokenAnswer);
      return true;
    } catch {
      clearSession();
      return false;
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}

/**
 * On page load: a session survives a reload only through the refresh cookie. Without the CSRF
 * cookie there is no session to restore, so no request is made (no 401 noise for visitors).
 */
export async function restore(): Promise<boolean> {
  if (accessToken !== null) return true;
  if (readCookie(CSRF_COOKIE) === null) return false;
  return refresh();
}

/** Signs out this browser: the gateway revokes the session and clears its cookies. */
export async function logout(): Promise<void> {
  try {
    const res = await post(LOGOUT_PATH, {}, true);
    if (!res.ok && res.status !== 401) throw await errorFromResponse(res);
  } finally {
    clearSession();
  }
}
