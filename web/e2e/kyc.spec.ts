// (g) A new user submits KYC on the account page; an admin approves it on the admin desk; the
// user sees it approved.
import { expect, test } from '@playwright/test';
import { ADMIN, PASSWORD, signIn, unique } from './helpers';

/** A PAN of the right shape (AAAPA9999A: 4th letter P, a person), different every run. */
function randomPan(): string {
  const L = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const letter = () => L[Math.floor(Math.random() * 26)]!;
  const serial = String(1000 + Math.floor(Math.random() * 9000));
  return `${letter()}${letter()}${letter()}P${letter()}${serial}${letter()}`;
}

test('a user submits KYC, an admin approves it, the user sees it approved', async ({ page, browser }) => {
  const email = `${unique('kyc')}@example.com`;
  const fullName = `Asha ${unique('Kyc')} Rao`;
  const pan = randomPan();

  await page.goto('/register');
  await page.getByLabel('Name (optional)').fill(fullName);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/account$/);

  const kyc = page.getByRole('region', { name: 'Identity (KYC)' });
  await expect(kyc.getByText('Status: Not submitted')).toBeVisible();
  await kyc.getByLabel('Document', { exact: true }).selectOption('pan');
  await kyc.getByLabel('PAN', { exact: true }).fill(pan.toLowerCase());
  await expect(kyc.getByLabel('Full name as on the document')).toHaveValue(fullName);
  await kyc.getByLabel('Date of birth').fill('1990-04-12');
  await kyc.getByRole('button', { name: 'Submit for review' }).click();
  await expect(kyc.getByText(/^Status: Waiting for review/)).toBeVisible();
  await expect(kyc.getByRole('button', { name: 'Submit for review' })).toHaveCount(0);

  // The admin, in another browser, approves it from the queue.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, ADMIN);
  await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  const queue = admin.getByRole('region', { name: 'KYC review' });
  const row = queue.getByRole('listitem').filter({ hasText: fullName });
  await expect(row).toBeVisible();
  await expect(row).toContainText('born 1990-04-12');
  await expect(row).toContainText('PAN');
  await row.getByRole('button', { name: 'Approve' }).click();
  await expect(row).toHaveCount(0);
  // It is listed under "Approved" now.
  await queue.getByLabel('Show').selectOption('approved');
  await expect(queue.getByRole('listitem').filter({ hasText: fullName })).toBeVisible();
  await adminContext.close();

  // The user reloads the account page: approved.
  await page.reload();
  await expect(kyc.getByText(/^Status: Approved/)).toBeVisible();
  await expect(kyc.getByText(/decided/)).toBeVisible();
  await expect(kyc.getByRole('button', { name: 'Submit for review' })).toHaveCount(0);
});
