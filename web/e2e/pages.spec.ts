// (c) no sideways scrolling at 390 × 844 on every page, with screenshots; (d) axe-core finds no
// serious or critical violation on any page.
import { AxeBuilder } from '@axe-core/playwright';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN, expectNoSidewaysScroll, searchSettled, signIn } from './helpers';

const SHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

interface PageCase {
  name: string;
  path: string | ((request: APIRequestContext) => Promise<string>);
  /** Waits until the page has loaded what it shows. */
  ready: (page: Page) => Promise<void>;
  signedIn?: boolean;
}

/** The demo listing with photos (make run adds it), else any listing. */
async function demoListing(request: APIRequestContext): Promise<string> {
  const res = await request.get('/api/v1/properties?q=Demo%20villa%20with%20photos&limit=5');
  const body = (await res.json()) as { items: { id: string; title: string }[] };
  const hit = body.items.find((i) => i.title === 'Demo villa with photos') ?? body.items[0];
  if (hit) return `/properties/${hit.id}`;
  const any = (await (await request.get('/api/v1/properties?limit=1')).json()) as { items: { id: string }[] };
  return `/properties/${any.items[0]!.id}`;
}

const heading = (name: string | RegExp) => async (page: Page) => {
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
};

const PAGES: PageCase[] = [
  { name: 'search', path: '/', ready: searchSettled },
  {
    name: 'property', path: demoListing, ready: async (page) => {
      await expect(page.locator('#listing-title')).toBeVisible();
      await expect(page.getByRole('heading', { name: 'Photos', exact: true })).toBeVisible();
      // Its photos loaded (the demo listing has two) and its map drawn, for the screenshots.
      for (const img of await page.locator('.photos img').all()) {
        await img.scrollIntoViewIfNeeded();
        await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth > 0)).toBe(true);
      }
      const where = page.getByRole('region', { name: /^Map: where/ });
      await where.scrollIntoViewIfNeeded();
      await expect(where.locator('.map-pin')).toBeVisible({ timeout: 30_000 });
      await page.evaluate(() => window.scrollTo(0, 0));
    },
  },
  { name: 'login', path: '/login', ready: heading('Sign in') },
  { name: 'register', path: '/register', ready: heading('Create an account') },
  { name: 'not found', path: '/no/such/page', ready: heading('Page not found') },
  {
    name: 'account', path: '/account', signedIn: true, ready: async (page) => {
      await heading('Your account')(page);
      await expect(page.getByText(/^Status:/)).toBeVisible();
      await expect(page.getByRole('button', { name: 'Sign out everywhere else' })).toBeVisible();
    },
  },
  { name: 'agent desk', path: '/desk', signedIn: true, ready: heading('Your listings') },
  { name: 'listing editor', path: '/desk/new', signedIn: true, ready: heading('New listing') },
  {
    name: 'admin desk', path: '/admin', signedIn: true, ready: async (page) => {
      await heading('Admin desk')(page);
      await expect(page.getByRole('heading', { name: 'Users and roles' })).toBeVisible();
      await expect(page.locator('.panel').last().locator('li.row').first()).toBeVisible();
    },
  },
];

async function visit(page: Page, request: APIRequestContext, c: PageCase): Promise<void> {
  const path = typeof c.path === 'string' ? c.path : await c.path(request);
  await page.goto(path);
  await c.ready(page);
}

/** Every page, signed out first and then as the admin (who may open every desk). */
async function eachPage(page: Page, request: APIRequestContext, check: (c: PageCase) => Promise<void>): Promise<void> {
  for (const c of PAGES.filter((p) => !p.signedIn)) {
    await visit(page, request, c);
    await check(c);
  }
  await signIn(page, ADMIN);
  for (const c of PAGES.filter((p) => p.signedIn)) {
    await visit(page, request, c);
    await check(c);
  }
}

test.describe('phone, 390 × 844', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

  test('no page scrolls sideways; screenshots of search and a listing', async ({ page, request }) => {
    await eachPage(page, request, async (c) => {
      await expectNoSidewaysScroll(page, c.name);
      if (c.name === 'search') {
        await page.screenshot({ path: join(SHOTS, 'search-phone.png') });
        // With the map open too (on a phone it opens on request).
        await page.getByRole('button', { name: 'Show map' }).click();
        await expect(page.locator('.map-cluster, .map-pin').first()).toBeVisible({ timeout: 30_000 });
        await expectNoSidewaysScroll(page, 'search with the map');
        await page.getByRole('region', { name: /^Map of listings/ }).scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SHOTS, 'search-phone-map.png') });
      }
      if (c.name === 'property') {
        await page.screenshot({ path: join(SHOTS, 'property-phone.png'), fullPage: true });
      }
    });
  });
});

test('the app\'s files arrive compressed (Brotli written at build time) and the page is not cached', async ({ page }) => {
  const seen = new Map<string, { encoding?: string; vary?: string; cache?: string }>();
  page.on('response', (r) => {
    const h = r.headers();
    seen.set(new URL(r.url()).pathname, { encoding: h['content-encoding'], vary: h['vary'], cache: h['cache-control'] });
  });
  const doc = await page.goto('/');
  expect(doc?.headers()['cache-control']).toBe('no-cache');
  await expect(page.getByRole('search', { name: 'Listings' })).toBeVisible();
  // The entry script the page names.
  const entry = /<script type="module"[^>]* src="([^"]+)"/.exec((await doc?.text()) ?? '')?.[1];
  expect(entry).toMatch(/^\/assets\/.+\.js$/);
  expect(seen.get(entry!)).toEqual({ encoding: 'br', vary: 'Accept-Encoding', cache: 'public, max-age=31536000, immutable' });
});

test.describe('desktop, 1280 × 800', () => {
  test('no page scrolls sideways; screenshots of search and a listing', async ({ page, request }) => {
    await eachPage(page, request, async (c) => {
      await expectNoSidewaysScroll(page, c.name);
      if (c.name === 'search') {
        await expect(page.locator('.map-cluster, .map-pin').first()).toBeVisible({ timeout: 30_000 });
        await page.screenshot({ path: join(SHOTS, 'search-desktop.png') });
      }
      if (c.name === 'property') {
        await page.screenshot({ path: join(SHOTS, 'property-desktop.png'), fullPage: true });
      }
    });
  });

  test('axe-core: no serious or critical violation on any page', async ({ page, request }) => {
    const found: string[] = [];
    const lesser: string[] = [];
    let checked = 0;
    await eachPage(page, request, async (c) => {
      if (c.name === 'search') await expect(page.locator('.map-cluster, .map-pin').first()).toBeVisible({ timeout: 30_000 });
      const result = await new AxeBuilder({ page }).analyze();
      checked += result.passes.length;
      for (const v of result.violations) {
        const line = `${c.name}: [${v.impact}] ${v.id} — ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')}`;
        if (v.impact === 'serious' || v.impact === 'critical') found.push(line); else lesser.push(line);
      }
    });
    // Moderate and minor findings are reported with the test (not failures).
    await test.info().attach('axe: moderate and minor findings', { body: lesser.join('\n') || 'none', contentType: 'text/plain' });
    expect(checked, 'axe ran its rules').toBeGreaterThan(0);
    expect(found, found.join('\n')).toEqual([]);
  });
});

test.describe('phone, 390 × 844, accessibility', () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test('axe-core: no serious or critical violation on the search page, the map open', async ({ page }) => {
    await page.goto('/');
    await searchSettled(page);
    await page.getByRole('button', { name: 'Show map' }).click();
    await expect(page.locator('.map-cluster, .map-pin').first()).toBeVisible({ timeout: 30_000 });
    const result = await new AxeBuilder({ page }).analyze();
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  });
});
