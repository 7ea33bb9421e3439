// (e) an agent's new listing is found by a signed-out visitor within seconds; (f) two tabs of
// the same agent edit one listing: the second save meets the first (412) and shows it.
// (g) the agent's desk lists every listing of theirs (drafts too) from the API, by status.
import { expect, test } from '@playwright/test';
import { AGENT, createListingInUi, signIn, unique } from './helpers';

test('an agent creates a listing and a signed-out visitor finds it in search within seconds', async ({ page, browser }) => {
  await signIn(page, AGENT);
  const tag = unique('zx');
  const title = `Sunlit corner flat ${tag}`;
  const id = await createListingInUi(page, { title, price: '85 lakh' });
  const created = Date.now();
  await expect(page.getByRole('heading', { level: 1, name: `Edit: ${title}` })).toBeVisible();
  await expect(page.locator('.badge-active').first()).toHaveText('For sale');

  const visitor = await browser.newContext();
  const v = await visitor.newPage();
  await v.goto('/');
  await expect(v.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sign in' })).toBeVisible();
  const form = v.getByRole('search', { name: 'Listings' });
  await form.getByLabel('Search').fill(tag);
  await form.getByLabel('City').fill('Pune');
  // The search index follows the listing by event: search again until it is there (seconds).
  await expect(async () => {
    await form.getByRole('button', { name: 'Search' }).click();
    await expect(v.locator('.results-count')).toHaveText(/^1 listing\b/, { timeout: 1_500 });
  }).toPass({ timeout: 15_000, intervals: [250, 500, 1_000] });
  const seconds = (Date.now() - created) / 1000;
  test.info().annotations.push({ type: 'found after', description: `${seconds.toFixed(1)} s` });
  expect(seconds).toBeLessThan(15);
  await expect(v).toHaveURL(new RegExp(`[?&]q=${tag}`));
  await v.getByRole('link', { name: title }).click();
  await expect(v).toHaveURL(new RegExp(`/properties/${id}$`));
  await expect(v.getByRole('heading', { level: 1, name: title })).toBeVisible();
  await expect(v.getByText('85 lakh', { exact: false }).first()).toBeVisible();
  // Its agent, by the public profile (name and role, nothing else).
  await expect(v.locator('.agent')).toContainText(/Demo Agent, agent since/);
  await visitor.close();
});

test('two tabs edit one listing: the second save shows the conflict with the other change', async ({ page, context }) => {
  await signIn(page, AGENT);
  const title = `Lake view flat ${unique('cf')}`;
  const id = await createListingInUi(page, { title, price: '60 lakh' });
  await expect(page.getByText('version 1')).toBeVisible();

  // The second tab opens the same listing (its session comes back through the cookie).
  const tab2 = await context.newPage();
  await tab2.goto(`/desk/${id}/edit`);
  await expect(tab2.getByRole('heading', { level: 1, name: `Edit: ${title}` })).toBeVisible();
  await expect(tab2.getByText('version 1')).toBeVisible();

  // Tab 1 renames it and saves first.
  const renamed = `${title} (renovated)`;
  await page.getByLabel('Title').fill(renamed);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await expect(page.getByText('version 2')).toBeVisible();

  // Tab 2, still on version 1, changes the price: 412, and the page shows both changes.
  await tab2.getByLabel('Price (₹)').fill('62 lakh');
  const patch = tab2.waitForResponse((r) => r.url().endsWith(`/api/v1/properties/${id}`) && r.request().method() === 'PATCH');
  await tab2.getByRole('button', { name: 'Save changes' }).click();
  const refused = await patch;
  expect(refused.status()).toBe(412);
  expect(await refused.text()).toContain('precondition-failed');
  const conflict = tab2.getByRole('alert').filter({ has: tab2.getByRole('heading', { name: 'Someone else changed this listing while you were editing' }) });
  await expect(conflict).toBeVisible();
  const titleRow = conflict.getByRole('row').filter({ has: tab2.getByRole('rowheader', { name: /^Title/ }) });
  await expect(titleRow.getByRole('cell')).toHaveText([title, renamed, '(unchanged)']);
  const priceRow = conflict.getByRole('row').filter({ has: tab2.getByRole('rowheader', { name: /^Price/ }) });
  await expect(priceRow.getByRole('cell').nth(0)).toHaveText(/60,00,000/);
  await expect(priceRow.getByRole('cell').nth(1)).toHaveText(/60,00,000/);
  await expect(priceRow.getByRole('cell').nth(2)).toHaveText(/62,00,000/);
  await expect(tab2.getByRole('button', { name: 'Save changes' })).toBeDisabled();

  // Apply mine on the latest: both changes are kept.
  await conflict.getByRole('button', { name: 'Apply my changes on the latest version' }).click();
  await expect(tab2.getByRole('status').filter({ hasText: 'Your changes were applied on top of the other change.' })).toBeVisible();
  await expect(tab2.getByText('version 3')).toBeVisible();
  await expect(tab2.getByLabel('Title')).toHaveValue(renamed);
  const latest = await tab2.request.get(`/api/v1/properties/${id}`);
  const body = (await latest.json()) as { title: string; price: { amount: number }; version: number };
  expect(body.title).toBe(renamed);
  expect(body.price.amount).toBe(62 * 100_000 * 100);
  expect(body.version).toBe(3);
});

test("the agent's desk lists their drafts, filters by status and follows a status change", async ({ page, browser }) => {
  await signIn(page, AGENT);
  const title = `Quiet draft flat ${unique('dr')}`;
  const id = await createListingInUi(page, { title, price: '45 lakh', active: false });
  await expect(page.locator('.badge-draft').first()).toHaveText('Draft');

  // A draft is the owner's only: a visitor gets "not public".
  const visitor = await browser.newContext();
  const v = await visitor.newPage();
  const hidden = v.waitForResponse((r) => r.url().endsWith(`/api/v1/properties/${id}`));
  await v.goto(`/properties/${id}`);
  expect((await hidden).status()).toBe(404);
  await visitor.close();

  // The desk lists it (newest first) from the API, also after a reload.
  await page.goto('/desk');
  await page.reload();
  const list = page.getByRole('list', { name: 'Your listings' });
  const row = list.getByRole('listitem').filter({ hasText: title });
  await expect(row).toBeVisible();
  await expect(row.locator('.badge')).toHaveText('Draft');
  await expect(list.getByRole('listitem').first()).toContainText(title);
  // "Show" asks the API for that status; the list then shows exactly its answer.
  const show = async (status: string) => {
    const answer = page.waitForResponse((r) => r.url().includes('/api/v1/users/me/listings') && r.url().includes(`status=${status}`));
    await page.getByLabel('Show').selectOption(status);
    const body = (await (await answer).json()) as { items: { id: string; status: string }[] };
    expect(body.items.every((l) => l.status === status)).toBe(true);
    return body.items;
  };
  const drafts = await show('draft');
  expect(drafts[0]?.id).toBe(id);
  await expect(list.locator('.badge-draft')).toHaveCount(drafts.length);
  await expect(list.locator('.badge:not(.badge-draft)')).toHaveCount(0);
  await expect(list.getByRole('listitem').first()).toContainText(title);

  // Publish it in the editor; the desk follows.
  await row.getByRole('link', { name: `Edit ${title}` }).click();
  await page.getByRole('button', { name: 'Publish' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Status changed to For sale.' })).toBeVisible();
  await page.goto('/desk');
  await expect(list.getByRole('listitem').first()).toContainText(title);  // every status: first
  expect((await show('draft')).map((l) => l.id)).not.toContain(id);
  await expect(list.locator('.badge:not(.badge-draft)')).toHaveCount(0);
  await expect(page.getByRole('listitem').filter({ hasText: title })).toHaveCount(0);
  const active = await show('active');
  expect(active[0]?.id).toBe(id);
  await expect(list.getByRole('listitem').first()).toContainText(title);
  await expect(list.getByRole('listitem').first().locator('.badge')).toHaveText('For sale');
});
