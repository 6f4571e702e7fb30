// Preloaded (`node --require`) into a program started the way Pulumi's nodejs language host
// starts it (test/program/runtime.test.ts): installs the SDK's mocks as the resource monitor
// before @pulumi/pulumi's cmd/run loads the program, and on exit writes what happened to the
// JSON file in TENANTRY_RUNTIME_REPORT: registrations, the time to the program's first one (from
// TENANTRY_RUNTIME_T0, the parent's clock at spawn) and whether ts-node was ever loaded.
"use strict";
const fs = require("node:fs");
const pulumi = require("@pulumi/pulumi");

const t0 = Number(process.env.TENANTRY_RUNTIME_T0);
const report = { resources: [], firstResourceMs: null, errors: [] };

pulumi.runtime.setMocks(
  {
    newResource(args) {
      // The stack itself is registered before the program is loaded (cmd/run runInPulumiStack).
      if (report.firstResourceMs === null && args.type !== "pulumi:pulumi:Stack") {
        report.firstResourceMs = Date.now() - t0;
      }
      report.resources.push(`${args.type}::${args.name}`);
      const state = { ...args.inputs };
      if (args.type === "random:index/randomPassword:RandomPassword") state.result = "mockmock";
      if (args.type === "docker:index/remoteImage:RemoteImage")
        state.imageId = `sha256:${args.name}`;
      if (args.type === "command:remote:Command") Object.assign(state, { stdout: "", stderr: "" });
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      return args.inputs;
    },
  },
  "tenantry",
  "offline",
  true,
);
// The engine's shutdown handshake (cmd/run's beforeExit): the mock monitor has none.
pulumi.runtime.getMonitor().signalAndWaitForShutdown = (_req, callback) => callback(null, {});

process.on("exit", (code) => {
  report.code = code;
  report.exitMs = Date.now() - t0;
  report.tsNodeLoaded = Object.keys(require.cache).some((f) => /[\\/]ts-node[@\\/]/.test(f));
  fs.writeFileSync(process.env.TENANTRY_RUNTIME_REPORT, JSON.stringify(report));
});
