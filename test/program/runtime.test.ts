// The program started the way `pulumi preview` starts it: Pulumi's nodejs language host runs
// `node <nodeargs> <@pulumi/pulumi/cmd/run> --monitor ... --project ... --stack ... --pwd ...
// [--dry-run] --parallel N .` in the project directory, with the stack config as JSON in
// PULUMI_CONFIG and PULUMI_NODEJS_TYPESCRIPT=true only when `typescript` is on
// (pulumi/pulumi v3.248.0 sdk/nodejs/cmd/pulumi-language-nodejs/main.go: parseOptions,
// constructArguments, constructConfig, the Run that spawns it; the plugin's working directory
// is the program's: sdk/go/common/resource/plugin/langruntime_plugin.go). Here the runtime
// options come from Pulumi.yaml, and a preloaded file puts the SDK's mocks in place of the
// engine's monitor (test/support/langhostMocks.cjs).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { OFFLINE_SECRET } from "../../cli/offline";
import { evaluate } from "./helpers";

const root = path.resolve(__dirname, "../..");
const run = promisify(execFile);

interface Report {
  resources: string[];
  firstResourceMs: number | null;
  exitMs: number;
  tsNodeLoaded: boolean;
  code: number;
}

const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as {
  runtime: { name: string; options?: { typescript?: boolean; nodeargs?: string } };
};

/** The stack config as the language host passes it: `<namespace>:config:<key>` → value. */
function pulumiConfig(): Record<string, string> {
  const keys = [
    "tenantry:tenantsFile",
    "tenantry:sshPrivateKey",
    "tenantry:acmeDnsToken",
    "cloudflare:apiToken",
    "tenantry:tenant.markplus.OPENAI_API_KEY",
    "tenantry:tenant.company2.OPENAI_API_KEY",
  ];
  return Object.fromEntries(
    keys.map((k) => {
      const [ns, name] = k.split(/:(.*)/s) as [string, string];
      return [
        `${ns}:config:${name}`,
        k === "tenantry:tenantsFile" ? "tenants.yaml" : OFFLINE_SECRET,
      ];
    }),
  );
}

async function startLikeTheLanguageHost(): Promise<Report> {
  const options = project.runtime.options ?? {};
  const report = path.join(mkdtempSync(path.join(tmpdir(), "tenantry-runtime-")), "report.json");
  const nodeargs = (options.nodeargs ?? "").split(/\s+/).filter((a) => a !== "");
  await run(
    process.execPath,
    [
      ...nodeargs,
      "--require",
      path.join(root, "test/support/langhostMocks.cjs"),
      require.resolve("@pulumi/pulumi/cmd/run"),
      "--monitor",
      "127.0.0.1:1",
      "--project",
      "tenantry",
      "--stack",
      "offline",
      "--pwd",
      root,
      "--dry-run",
      "--parallel",
      "4",
      ".",
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(pulumiConfig()),
        PULUMI_CONFIG_SECRET_KEYS: "[]",
        ...(options.typescript === false ? {} : { PULUMI_NODEJS_TYPESCRIPT: "true" }),
        TENANTRY_RUNTIME_T0: String(Date.now()),
        TENANTRY_RUNTIME_REPORT: report,
      },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(readFileSync(report, "utf8")) as Report;
}

describe("the program as the Pulumi language host starts it", () => {
  it("runs index.ts through tsx, without Pulumi's vendored ts-node, and registers every resource", async () => {
    expect(project.runtime.name).toBe("nodejs");
    expect(project.runtime.options).toEqual({ typescript: false, nodeargs: "--import tsx" });
    const [report, offline] = await Promise.all([
      startLikeTheLanguageHost(),
      evaluate(path.join(root, "tenants.yaml")),
    ]);
    expect(report.code).toBe(0);
    expect(report.tsNodeLoaded).toBe(false);
    expect(report.firstResourceMs).not.toBeNull();
    // The same resources as the in-process evaluation (`tenantry plan`), the stack aside.
    const expected = offline.run!.resources.map((r) => `${r.type}::${r.name}`).sort();
    expect(report.resources.filter((r) => !r.startsWith("pulumi:pulumi:Stack::")).sort()).toEqual(
      expected,
    );
  }, 120_000);
});
