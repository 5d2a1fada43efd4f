import { defineConfig } from 'vitest/config';

/**
 * Tests that stop or restart a shared server (scripts/services down/up) are named
 * `*.disruptive.test.ts`. They run in a project of their own, after every other test file has
 * finished (groupOrder) and one file at a time, so no other test sees the server vanish.
 */
const DISRUPTIVE = '**/*.disruptive.test.ts';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Starts Redis, Cassandra and Elasticsearch (scripts/services up) and sets HERMOD_TEST_*.
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts', 'plugins/**/*.test.ts', 'src/**/*.test.ts'],
          exclude: [DISRUPTIVE, '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'disruptive',
          include: [`test/${DISRUPTIVE}`],
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
