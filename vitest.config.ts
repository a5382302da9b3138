import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "apps/*/src/**/*.test.ts",
      "packages/*/src/**/*.test.ts",
      "apps/*/test/**/*.test.ts",
      "bench/src/**/*.test.ts",
      "eval/src/**/*.test.ts",
      // Browser specs (real Chromium); they skip with a message when /usr/bin/chromium is absent.
      "e2e/**/*.spec.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Suites share one PostgreSQL server; each uses its own schema, so files can run in parallel.
    fileParallelism: true,
  },
});
