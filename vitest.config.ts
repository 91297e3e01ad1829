import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Several gateways over a real Redis: `npm run test:replicas` (test/replicas/vitest.config.ts).
    exclude: ['test/replicas/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
