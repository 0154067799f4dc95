import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./shared/src/testing/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          // Fails a test file in whose log output (logger, stdout, stderr, console) a secret value appears.
          setupFiles: ['./shared/src/testing/log-capture.ts'],
          include: [
            'shared/**/*.test.ts',
            'functions/**/*.test.ts',
            'gateway/**/*.test.ts',
            'cli/**/*.test.ts',
            // The dashboard's browser tests: Chromium against `npm start` (node side, not jsdom).
            'web/e2e/**/*.test.ts',
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'web',
          environment: 'jsdom',
          include: ['web/src/**/*.test.{ts,tsx}'],
        },
      },
    ],
  },
});
