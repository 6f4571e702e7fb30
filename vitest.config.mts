import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Pulumi's runtime is process-global: every test file gets its own process.
    pool: "forks",
    isolate: true,
    // The real tests spend most of their time waiting on their host (sshd, dockerd, nginx
    // reloads, health checks), so three files at a time fit on the 2-core CI machine, where
    // vitest's default (cores - 1) would run them one by one: measured 602 s serial, 305 s
    // with 3. Each real test file claims its own network slot (test/support/netns.ts).
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
