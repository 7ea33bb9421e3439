// (b) register → sign in → search by city and price → open a result → the URL holds the whole
// search; (h) moving the map searches the map's box.
import { expect, test, type Response } from '@playwright/test';
import { PASSWORD, resultTitles, searchSettled, signInLink, signOutButton, unique } from './helpers';

interface Hit {
  id: string;
  title: string;
  price: { amount: number };
  address?: { city?: string };
  location?: { lat: number; lng: number };
}
interface SearchAnswer {
  items: Hit[];
  facets?: Record<string, Record<string, number>>;
}

const isSearch = (r: Response) => new URL(r.url()).pathname === '/api/v1/properties' && r.request().method() === 'GET';

// Prices in paise, as the form's steps are (50 lakh and 5 crore).
const MIN = 50 * 100_000 * 100;
const MAX = 500 * 100_000 * 100;

test('register, sign in, search by city and price, open a result, and the URL brings the same search back', async ({ page, browser }) => {
  const email = `${unique('buyer')}@example.com`;

  // Register (the app signs the new account in and shows its page) …
  await page.goto('/register');
  await page.getByLabel('Name (optional)').fill('Browser Buyer');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByText(`${email} · investor`)).toBeVisible();
  // … sign out, and sign in again with the new account.
  await signOutButton(page).click();
  await expect(signInLink(page)).toBeVisible();
  await signInLink(page).click();
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(signOutButton(page)).toBeVisible();
  await expect(page).toHaveURL(/\/$/);
  await searchSettled(page);

  // Search: a city, then a price range (a select applies at once; the city applies on Search).
  const form = page.getByRole('search', { name: 'Listings' });
  await form.getByLabel('City').fill('Pune');
  await form.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/[?&]city=Pune/);
  await searchSettled(page);
  await form.getByLabel('Min price').selectOption(String(MIN));
  await expect(page).toHaveURL(/min_price=/);
  await searchSettled(page);
  const finalAnswer = page.waitForResponse((r) => isSearch(r) && r.url().includes(`max_price=${MAX}`));
  await form.getByLabel('Max price').selectOption(String(MAX));
  const answer = (await (await finalAnswer).json()) as SearchAnswer;
  await searchSettled(page);

  const url = new URL(page.url());
  expect(url.pathname).toBe('/');
  expect(url.searchParams.get('city')).toBe('Pune');
  expect(url.searchParams.get('min_price')).toBe(String(MIN));
  expect(url.searchParams.get('max_price')).toBe(String(MAX));
  // What the API sent back matches the search, and is what the page lists.
  expect(answer.items.length).toBeGreaterThan(0);
  for (const hit of answer.items) {
    expect(hit.address?.city?.toLowerCase(), hit.title).toBe('pune');
    expect(hit.price.amount, hit.title).toBeGreaterThanOrEqual(MIN);
    expect(hit.price.amount, hit.title).toBeLessThanOrEqual(MAX);
  }
  const titles = await resultTitles(page);
  expect(titles).toEqual(answer.items.map((h) => h.title));
  const total = await page.locator('.results-count').innerText();

  // Open the first result.
  const first = answer.items[0]!;
  await page.getByRole('link', { name: first.title, exact: true }).first().click();
  await expect(page).toHaveURL(new RegExp(`/properties/${first.id}$`));
  await expect(page.getByRole('heading', { level: 1, name: first.title })).toBeVisible();
  await expect(page.getByText(/Pune/).first()).toBeVisible();

  // Back, then reload the search URL: the same search, the same results, the form filled in.
  await page.goBack();
  await expect(page).toHaveURL(url.toString());
  await page.reload();
  await searchSettled(page);
  expect(await resultTitles(page)).toEqual(titles);
  await expect(page.locator('.results-count')).toHaveText(total);
  await expect(form.getByLabel('City')).toHaveValue('Pune');
  await expect(form.getByLabel('Min price')).toHaveValue(String(MIN));
  await expect(form.getByLabel('Max price')).toHaveValue(String(MAX));
  await expect(signOutButton(page)).toBeVisible();

  // The link alone is the search: a signed-out visitor opening it sees the same list.
  const visitor = await browser.newContext();
  const other = await visitor.newPage();
  await other.goto(url.toString());
  await searchSettled(other);
  expect(await resultTitles(other)).toEqual(titles);
  await visitor.close();
});

test('moving the map searches the box it shows', async ({ page }) => {
  await page.goto('/');
  await searchSettled(page);
  const map = page.getByRole('region', { name: /^Map of listings/ });
  await expect(map).toBeVisible();
  // The map shows the results as pins and clusters (HTML buttons) once it has loaded.
  await expect(map.locator('.map-cluster, .map-pin').first()).toBeVisible({ timeout: 30_000 });
  const before = await resultTitles(page);
  const totalBefore = Number((await page.locator('.results-count').innerText()).replace(/\D/g, ''));
  expect(totalBefore).toBeGreaterThan(before.length - 1);

  // Drag the map: the search now carries the map's box.
  const canvas = map.locator('canvas.maplibregl-canvas');
  const box = (await canvas.boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  let request = page.waitForRequest((r) => new URL(r.url()).pathname === '/api/v1/properties' && r.url().includes('bbox='));
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(cx + 12 * i, cy + 6 * i);
  await page.mouse.up();
  const dragged = new URL((await request).url()).searchParams.get('bbox');
  expect(dragged).toMatch(/^-?[\d.]+,-?[\d.]+,-?[\d.]+,-?[\d.]+$/);
  await expect(page).toHaveURL(/[?&]bbox=/);
  await searchSettled(page);

  // Zoom in on a cluster (mouse wheel over it): a smaller box, fewer listings, all inside it.
  const cluster = map.locator('.map-cluster').first();
  await expect(cluster).toBeVisible();
  const c = (await cluster.boundingBox())!;
  await page.mouse.move(c.x + c.width / 2, c.y + c.height / 2);
  const zoomed = page.waitForResponse((r) => isSearch(r) && r.url().includes('bbox=') && !r.url().includes(`bbox=${encodeURIComponent(dragged!)}`));
  for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -240);
  await zoomed;
  // The last of the wheel's moves is the one shown; wait for the page to settle on it.
  await expect(page.locator('.results-count')).toHaveText(/in the map area/);
  await searchSettled(page);
  const bbox = new URL(page.url()).searchParams.get('bbox')!.split(',').map(Number) as [number, number, number, number];
  const final = page.waitForResponse((r) => isSearch(r) && r.url().includes('bbox='));
  await page.reload();
  const answer = (await (await final).json()) as SearchAnswer;
  await searchSettled(page);
  expect(answer.items.length).toBeGreaterThan(0);
  for (const hit of answer.items) {
    expect(hit.location!.lng, hit.title).toBeGreaterThanOrEqual(bbox[0]);
    expect(hit.location!.lat, hit.title).toBeGreaterThanOrEqual(bbox[1]);
    expect(hit.location!.lng, hit.title).toBeLessThanOrEqual(bbox[2]);
    expect(hit.location!.lat, hit.title).toBeLessThanOrEqual(bbox[3]);
  }
  const after = await resultTitles(page);
  expect(after).toEqual(answer.items.map((h) => h.title));
  expect(after).not.toEqual(before);
  const totalAfter = Number((await page.locator('.results-count').innerText()).replace(/\D/g, ''));
  expect(totalAfter).toBeLessThan(totalBefore);

  // "Search everywhere" drops the box: back to every listing.
  await page.getByRole('button', { name: 'Search everywhere' }).click();
  await expect(page).not.toHaveURL(/bbox=/);
  // Only the final count matches (not the box's count, not "Searching…" on the way).
  await expect(page.locator('.results-count')).toHaveText(/^[\d,]+ listings?$/);
  await searchSettled(page);
  expect(Number((await page.locator('.results-count').innerText()).replace(/\D/g, ''))).toBe(totalBefore);
});
