// (a) The session survives a reload only through the gateway's HttpOnly refresh cookie; no
// token is ever kept where script can read it; signing out ends it for good.
import { expect, test, type Page } from '@playwright/test';
import { INVESTOR, PASSWORD, signInLink, signOutButton } from './helpers';

/** Everything in localStorage and sessionStorage, as [store, key, value]. */
async function storage(page: Page): Promise<[string, string, string][]> {
  return page.evaluate(() => {
    const out: [string, string, string][] = [];
    for (const [name, s] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]] as const) {
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i)!;
        out.push([name, k, s.getItem(k) ?? '']);
      }
    }
    return out;
  });
}

const JWT = /eyJ[\w-]{8,}\.[\w-]{8,}\./;

test('login survives a reload through the refresh cookie, no token is readable by script, logout ends it', async ({ page, context }) => {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(INVESTOR);
  await page.getByLabel('Password').fill(PASSWORD);
  const loginAnswer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login') && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const login = await loginAnswer;
  expect(login.status()).toBe(200);
  // The browser's login (Sec-Fetch-Site: same-origin) gets the refresh token as a cookie only.
  const body = (await login.json()) as Record<string, unknown>;
  expect(typeof body.access_token).toBe('string');
  expect(body).not.toHaveProperty('refresh_token');
  const accessToken = body.access_token as string;
  await expect(signOutButton(page)).toBeVisible();

  const cookies = await context.cookies();
  const refresh = cookies.find((c) => c.name === 'restinu_refresh');
  const csrf = cookies.find((c) => c.name === 'restinu_csrf');
  expect(refresh, 'restinu_refresh cookie').toBeDefined();
  expect(refresh!.httpOnly).toBe(true);
  expect(refresh!.sameSite).toBe('Strict');
  expect(refresh!.path).toBe('/api/v1/auth');
  expect(csrf, 'restinu_csrf cookie').toBeDefined();
  expect(csrf!.httpOnly).toBe(false);

  const checkNoTokens = async (when: string) => {
    const entries = await storage(page);
    for (const [store, k, v] of entries) {
      expect(`${store}.${k}`, `${when}: a token-like key`).not.toMatch(/token|jwt|session|auth|refresh/i);
      expect(v, `${when}: ${store}.${k} holds a JWT`).not.toMatch(JWT);
      expect(v, `${when}: ${store}.${k} holds the access token`).not.toContain(accessToken);
    }
    expect(entries, `${when}: web storage should be empty`).toEqual([]);
    const docCookie = await page.evaluate(() => document.cookie);
    expect(docCookie, `${when}: document.cookie`).not.toContain('restinu_refresh');
    expect(docCookie).not.toMatch(JWT);
    expect(docCookie).not.toContain(accessToken);
  };
  await checkNoTokens('after login');

  // Reload: the access token (memory only) is gone; the refresh cookie brings the session back.
  const refreshAnswer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/refresh'));
  await page.reload();
  const refreshed = await refreshAnswer;
  expect(refreshed.status()).toBe(200);
  expect(await refreshed.json()).not.toHaveProperty('refresh_token');
  await expect(signOutButton(page)).toBeVisible();
  await page.getByRole('link', { name: 'Account' }).click();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  await expect(page.getByText(`${INVESTOR} · investor`)).toBeVisible();
  await checkNoTokens('after reload');

  // Reload on a page that needs the session: still signed in.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();

  // Sign out: the gateway revokes the session and clears both cookies.
  const logoutAnswer = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/logout'));
  await signOutButton(page).click();
  expect((await logoutAnswer).status()).toBeLessThan(300);
  await expect(signInLink(page)).toBeVisible();
  const after = await context.cookies();
  expect(after.find((c) => c.name === 'restinu_refresh')).toBeUndefined();
  expect(after.find((c) => c.name === 'restinu_csrf')).toBeUndefined();

  // After a reload we are still signed out, and the account page asks to sign in.
  await page.goto('/account');
  await expect(page.getByRole('heading', { name: 'Please sign in' })).toBeVisible();
  await expect(signInLink(page)).toBeVisible();
  await expect(signOutButton(page)).toHaveCount(0);
  await checkNoTokens('after logout');
});

test('the refresh cookie is refused without the CSRF header, and a revoked session cannot come back', async ({ page, context }) => {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(INVESTOR);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(signOutButton(page)).toBeVisible();

  // A same-origin fetch with the cookie but a wrong X-CSRF-Token: 403 csrf-failed.
  const wrong = await page.evaluate(async () => {
    const r = await fetch('/api/v1/auth/refresh', {
      method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'not-the-cookie' }, body: '{}',
    });
    return { status: r.status, body: await r.text() };
  });
  expect(wrong.status, wrong.body).toBe(403);
  expect(wrong.body).toContain('csrf-failed');
  // The session is untouched by the refused call: a reload still restores it.
  await page.reload();
  await expect(signOutButton(page)).toBeVisible();

  // Keep the cookie from before signing out; after logout, replaying it gets nothing.
  const old = (await context.cookies()).filter((c) => c.name.startsWith('restinu_'));
  await signOutButton(page).click();
  await expect(signInLink(page)).toBeVisible();
  await context.addCookies(old);
  await page.reload();
  await expect(signInLink(page)).toBeVisible();
  await expect(signOutButton(page)).toHaveCount(0);
});

test('tabs opened at the same moment all keep the session (one refresh at a time)', async ({ page, context }) => {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(INVESTOR);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(signOutButton(page)).toBeVisible();

  // Three tabs restore their session at once: each refresh must send the cookie the one before
  // received (the refresh token is rotated; a reused one revokes the session for every tab).
  // Each refresh is held back 400 ms on its way out, so that the tabs' refreshes overlap for
  // sure (unserialized, they would all leave with the same cookie).
  await context.route('**/api/v1/auth/refresh', async (route) => {
    await new Promise((r) => setTimeout(r, 400));
    await route.continue();
  });
  const tabs = await Promise.all([context.newPage(), context.newPage(), context.newPage()]);
  const statuses: number[] = [];
  for (const t of tabs) t.on('response', (r) => { if (r.url().endsWith('/api/v1/auth/refresh')) statuses.push(r.status()); });
  await Promise.all(tabs.map((t) => t.goto('/account')));
  for (const t of tabs) {
    await expect(t.getByRole('heading', { name: 'Your account' })).toBeVisible();
    await expect(signOutButton(t)).toBeVisible();
  }
  expect(statuses).toEqual([200, 200, 200]);
  // The session is still alive for a tab opened afterwards.
  const later = await context.newPage();
  await later.goto('/account');
  await expect(later.getByRole('heading', { name: 'Your account' })).toBeVisible();
});
