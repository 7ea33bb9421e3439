// Browser tests (e2e/*.spec.ts) against the real stack: `e2e/run.sh` builds the app, starts
// `scripts/stack.sh` on a free port and runs these with RESTINU_WEB_URL pointing at it.
// Debian's Chromium drives them (Playwright's own browser download is not used).
import { defineConfig, devices } from '@playwright/test';

const baseURL = process.env.RESTINU_WEB_URL;
if (!baseURL) {
  throw new Error('RESTINU_WEB_URL is not set: run web/e2e/run.sh, or start the stack and set it (e.g. http://127.0.0.1:8080)');
}

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results/artifacts',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['html', { outputFolder: './test-results/report', open: 'never' }]],
  use: {
    baseURL,
    headless: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    video: 'off',
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    locale: 'en-IN',
    timezoneId: 'Asia/Kolkata',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        viewport: { width: 1280, height: 800 },
        launchOptions: {
          executablePath: process.env.RESTINU_CHROMIUM ?? '/usr/bin/chromium',
          // --no-sandbox: the tests run as root. SwiftShader gives the map (WebGL) a GPU-less renderer.
          args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
        },
      },
    },
  ],
});
