import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api } from './client';
import {
  clearSession, CSRF_HEADER, getAccessToken, login, logout, LOGIN_PATH, LOGOUT_PATH, refresh, REFRESH_LOCK, REFRESH_PATH, restore,
} from './session';
import sessionSource from './session.ts?raw';

// Web Storage that records every touch: the session module must never use it.
const touched: string[] = [];
function spyStorage(name: string): Storage {
  return new Proxy({} as Storage, {
    get(_t, prop) {
      touched.push(`${name}.${String(prop)}`);
      return () => null;
    },
    set(_t, prop) {
      touched.push(`${name}.${String(prop)}=`);
      return true;
    },
  });
}

let cookieJar = '';
const cookieWrites: string[] = [];

function tokens(access: string, extra: Record<string, unknown> = {}) {
  return new Response(JSON.stringify({ access_token: access, token_type: 'Bearer', expires_in: 900, refresh_token: 'R-secret', ...extra }), {
    status: 200,
    headers: { 'Content-Type': 'application/json' },
  });
}
function problem(status: number, kind: string) {
  return new Response(JSON.stringify({ type: `https://restinu.dev/problems/${kind}`, title: kind, status }), {
    status,
    headers: { 'Content-Type': 'application/problem+json' },
  });
}

const fetchMock = vi.fn<typeof fetch>();

beforeEach(() => {
  touched.length = 0;
  cookieWrites.length = 0;
  cookieJar = 'theme=dark; restinu_csrf=c%2Bsrf-1';
  fetchMock.mockReset();
  vi.stubGlobal('fetch', fetchMock);
  vi.stubGlobal('localStorage', spyStorage('localStorage'));
  vi.stubGlobal('sessionStorage', spyStorage('sessionStorage'));
  vi.stubGlobal('document', {
    get cookie() {
      return cookieJar;
    },
    set cookie(v: string) {
      cookieWrites.push(v);
    },
  });
});

afterEach(() => {
  clearSession();
  // Every test must leave Web Storage and script-written cookies untouched.
  expect(touched).toEqual([]);
  expect(cookieWrites).toEqual([]);
  vi.unstubAllGlobals();
});

function lastInit(): RequestInit {
  return fetchMock.mock.calls.at(-1)![1]!;
}
function header(init: RequestInit, name: string): string | undefined {
  return (init.headers as Record<string, string>)[name];
}

describe('session', () => {
  it('keeps the access token in memory only and drops the refresh token', async () => {
    fetchMock.mockResolvedValueOnce(tokens('A1'));
    await login('me@example.com', 'a long passphrase');
    expect(getAccessToken()).toBe('A1');
    expect(fetchMock.mock.calls[0]![0]).toBe(LOGIN_PATH);
    expect(lastInit().credentials).toBe('include');
  });

  it('refreshes with the cookie and the CSRF header read from restinu_csrf', async () => {
    fetchMock.mockResolvedValueOnce(tokens('A2'));
    expect(await refresh()).toBe(true);
    expect(fetchMock.mock.calls[0]![0]).toBe(REFRESH_PATH);
    const init = lastInit();
    expect(init.method).toBe('POST');
    expect(init.credentials).toBe('include');
    expect(header(init, CSRF_HEADER)).toBe('c+srf-1');
    expect(init.body).toBe('{}'); // no token in the body: the HttpOnly cookie carries it
    expect(getAccessToken()).toBe('A2');
  });

  it('shares one refresh between callers that ask at once', async () => {
    fetchMock.mockResolvedValueOnce(tokens('A3'));
    const [a, b] = await Promise.all([refresh(), refresh()]);
    expect(a && b).toBe(true);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('refreshes inside the Web Lock every tab shares, with the CSRF cookie of when it holds it', async () => {
    // Two tabs restoring at once must not both send one rotated refresh token (reuse revokes
    // the session): the second waits for the lock and then sends the cookie the first got.
    const held: string[] = [];
    let release!: () => void;
    const otherTab = new Promise<void>((r) => (release = r));
    vi.stubGlobal('navigator', {
      locks: {
        request: async (name: string, _opts: unknown, fn: () => Promise<unknown>) => {
          held.push(name);
          await otherTab;
          return fn();
        },
      },
    });
    fetchMock.mockResolvedValueOnce(tokens('A6'));
    const done = refresh();
    await Promise.resolve();
    expect(fetchMock).not.toHaveBeenCalled(); // waiting for the other tab
    cookieJar = 'restinu_csrf=after-the-other-tab';
    release();
    expect(await done).toBe(true);
    expect(held).toEqual([REFRESH_LOCK]);
    expect(header(lastInit(), CSRF_HEADER)).toBe('after-the-other-tab');
    expect(getAccessToken()).toBe('A6');
  });

  it('signs out when the refresh is refused', async () => {
    fetchMock.mockResolvedValueOnce(tokens('A4'));
    await login('me@example.com', 'x'.repeat(12));
    fetchMock.mockResolvedValueOnce(problem(401, 'invalid-refresh-token'));
    expect(await refresh()).toBe(false);
    expect(getAccessToken()).toBeNull();
  });

  it('does not try to restore a session when there is no CSRF cookie', async () => {
    cookieJar = 'theme=dark';
    expect(await restore()).toBe(false);
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('logs out with the CSRF header and forgets the token even if the call fails', async () => {
    fetchMock.mockResolvedValueOnce(tokens('A5'));
    await login('me@example.com', 'x'.repeat(12));
    fetchMock.mockRejectedValueOnce(new TypeError('network down'));
    await expect(logout()).rejects.toThrow();
    expect(fetchMock.mock.calls.at(-1)![0]).toBe(LOGOUT_PATH);
    expect(header(lastInit(), CSRF_HEADER)).toBe('c+srf-1');
    expect(getAccessToken()).toBeNull();
  });

  it('a failed login throws the problem and leaves no token', async () => {
    fetchMock.mockResolvedValueOnce(problem(401, 'invalid-credentials'));
    await expect(login('me@example.com', 'wrong password!')).rejects.toMatchObject({ status: 401 });
    expect(getAccessToken()).toBeNull();
  });

  it('API calls send the bearer token and retry once after a refresh on 401', async () => {
    fetchMock.mockResolvedValueOnce(tokens('OLD'));
    await login('me@example.com', 'x'.repeat(12));
    fetchMock
      .mockResolvedValueOnce(problem(401, 'unauthorized'))
      .mockResolvedValueOnce(tokens('NEW'))
      .mockResolvedValueOnce(new Response(JSON.stringify({ id: 'u1' }), { status: 200 }));
    const r = await api<{ id: string }>('/api/v1/users/me');
    expect(r.data.id).toBe('u1');
    const calls = fetchMock.mock.calls;
    expect(header(calls[1]![1]!, 'Authorization')).toBe('Bearer OLD');
    expect(calls[2]![0]).toBe(REFRESH_PATH);
    expect(header(calls[3]![1]!, 'Authorization')).toBe('Bearer NEW');
  });

  it('the session module source never names Web Storage or IndexedDB', () => {
    const src = sessionSource
      .replace(/\/\/.*$/gm, ''); // comments may explain what it avoids
    expect(src).not.toMatch(/localStorage|sessionStorage|indexedDB|document\.cookie\s*=/);
  });
});
