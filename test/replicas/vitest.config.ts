import { defineConfig } from 'vitest/config';

/** `npm run test:replicas`: several gateways over a real Redis (and nginx for the bench); heavy. */
export default defineConfig({
  test: {
    include: ['test/replicas/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
