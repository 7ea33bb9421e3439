import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The gateway serves dist/ at `/`; everything under /api is the API on the same origin.
// `npm run dev` proxies /api to a local gateway (RESTINU_GATEWAY, default 127.0.0.1:8080).
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    // No inline <script>: the CSP has no 'unsafe-inline' for scripts.
    modulePreload: { polyfill: false },
    // Never inline assets as data: URIs into JS/CSS (keeps the CSP simple and the chunks small).
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    proxy: {
      '/api': env.RESTINU_GATEWAY ?? 'http://127.0.0.1:8080',
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
