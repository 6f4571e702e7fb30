#!/usr/bin/env node
// Entry point of the `tenantry` command: runs the TypeScript CLI under tsx, so the CLI and the
// Pulumi program share one source tree with no build step.
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const result = spawnSync(
  process.execPath,
  [
    require.resolve("tsx/cli"),
    path.join(__dirname, "..", "cli", "main.ts"),
    ...process.argv.slice(2),
  ],
  { stdio: "inherit" },
);
if (result.error) throw result.error;
process.exitCode = result.status ?? 1;
