// Shared steps of the browser tests. Everything goes through the real gateway (RESTINU_WEB_URL).
import { expect, type APIRequestContext, type Page } from '@playwright/test';

export const PASSWORD = 'demo passphrase 2026';
export const ADMIN = 'admin@restinu.local';
export const AGENT = 'agent@restinu.local';
export const INVESTOR = 'investor@restinu.local';

/** A short unique tag for names and e-mails made by one test run. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** The "Sign out" button of the header: there when signed in. */
export const signOutButton = (page: Page) => page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Sign out' });
/** The "Sign in" link of the header: there when signed out (and the session check is over). */
export const signInLink = (page: Page) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' });

/** Signs in through the login page and waits for the header to show the session. */
export async function signIn(page: Page, email: string, password = PASSWORD, next?: string): Promise<void> {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(signOutButton(page)).toBeVisible();
  await expect(page).not.toHaveURL(/\/login/);
}

/** Registers through the API (no browser session): for accounts a test only needs to exist. */
export async function registerByApi(request: APIRequestContext, email: string, name: string): Promise<void> {
  const res = await request.post('/api/v1/auth/register', { data: { email, password: PASSWORD, name } });
  expect(res.status(), await res.text()).toBe(201);
}

/** An access token for API set-up steps (not a browser session: no Sec-Fetch-Site, no cookie). */
export async function apiToken(request: APIRequestContext, email: string): Promise<string> {
  const res = await request.post('/api/v1/auth/login', { data: { email, password: PASSWORD } });
  expect(res.status(), await res.text()).toBe(200);
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

/** The id of one public listing (the seed's), for pages that need one. */
export async function someListingId(request: APIRequestContext, query = 'city=Pune&limit=1'): Promise<string> {
  const res = await request.get(`/api/v1/properties?${query}`);
  expect(res.ok()).toBeTruthy();
  const body = (await res.json()) as { items: { id: string }[] };
  expect(body.items.length).toBeGreaterThan(0);
  return body.items[0]!.id;
}

/** Waits until the search page has shown its results (count line filled, list present). */
export async function searchSettled(page: Page): Promise<void> {
  await expect(page.locator('.results-count')).toHaveText(/\d[\d,]* listings?/);
  await expect(page.locator('ul.results')).toHaveAttribute('aria-busy', 'false');
}

/** Titles of the result cards, in order. */
export async function resultTitles(page: Page): Promise<string[]> {
  return page.locator('ul.results .card-title').allInnerTexts();
}

/** The page does not scroll sideways. */
export async function expectNoSidewaysScroll(page: Page, what: string): Promise<void> {
  const m = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    body: document.body.scrollWidth,
  }));
  expect(m.scroll, `${what}: document scrollWidth ${m.scroll} > clientWidth ${m.client}`).toBeLessThanOrEqual(m.client);
  expect(m.body, `${what}: body scrollWidth ${m.body} > clientWidth ${m.client}`).toBeLessThanOrEqual(m.client);
}

/** Fills the listing editor's required fields (a listing in Pune unless told otherwise). */
export async function fillNewListing(page: Page, l: { title: string; price: string; city?: string; lat?: string; lng?: string; active?: boolean }): Promise<void> {
  await page.getByLabel('Title').fill(l.title);
  await page.getByLabel('Description').fill(`Made by a browser test: ${l.title}.`);
  await page.getByLabel('Property type').selectOption('apartment');
  if (l.active !== false) await page.getByLabel('Start as').selectOption('active');
  await page.getByLabel('Price (₹)').fill(l.price);
  await page.getByLabel('Bedrooms').fill('2');
  await page.getByLabel('Bathrooms').fill('2');
  await page.getByLabel('Area (sq ft)').fill('1050');
  await page.getByLabel('Address', { exact: true }).fill('12 Test Lane');
  await page.getByLabel('Locality').fill('Aundh');
  await page.getByLabel('City').fill(l.city ?? 'Pune');
  await page.getByLabel('State').fill('Maharashtra');
  await page.getByLabel('PIN code').fill('411007');
  await page.getByLabel('Latitude').fill(l.lat ?? '18.5590');
  await page.getByLabel('Longitude').fill(l.lng ?? '73.8075');
}

/** Creates a listing through the agent's desk; returns its id (from the editor's URL). */
export async function createListingInUi(page: Page, l: Parameters<typeof fillNewListing>[1]): Promise<string> {
  await page.goto('/desk/new');
  await expect(page.getByRole('heading', { name: 'New listing' })).toBeVisible();
  await fillNewListing(page, l);
  await page.getByRole('button', { name: 'Create listing' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Listing created.' })).toBeVisible();
  const m = /\/desk\/([0-9a-f-]{36})\/edit/.exec(page.url());
  expect(m, `editor URL after create: ${page.url()}`).not.toBeNull();
  return m![1]!;
}
