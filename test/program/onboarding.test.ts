// Onboarding and refusal, each case its own program evaluation (child processes): adding a
// tenant never touches existing ones; a bad manifest or missing secret stops everything first.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import type { RecordedResource } from "../../cli/offline";
import { evaluate, T, type ChildResult } from "./helpers";

const example = readFileSync(path.resolve(__dirname, "../../tenants.yaml"), "utf8");
const dir = mkdtempSync(path.join(tmpdir(), "tenantry-onboarding-"));

/** The example with one more tenant, first or last in the tenants map. */
function withNewTenant(position: "top" | "bottom", image?: string): string {
  const doc = parseDocument(example);
  const tenants = doc.get("tenants") as { items: unknown[] };
  const entry = doc.createPair("newco", {
    app: "mcoder",
    plan: "small",
    host: "vps1",
    slot: 4,
    domain: "newco.example.com",
    env: { COMPANY_NAME: "NewCo" },
  });
  if (position === "top") tenants.items.unshift(entry);
  else tenants.items.push(entry);
  if (image) doc.setIn(["apps", "mcoder", "services", "web", "image"], image);
  return String(doc);
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Everything the engine would compare for a resource. */
function fingerprint(r: RecordedResource): string {
  return JSON.stringify([
    r.inputs,
    r.parent,
    r.provider,
    [...r.dependencies].sort(),
    r.retainOnDelete,
    r.deleteBeforeReplace,
    r.additionalSecretOutputs,
  ]);
}

function tenantResources(
  resources: readonly RecordedResource[],
  tenants: readonly string[],
): Map<string, string> {
  const roots = new Set(
    resources.filter((r) => r.type === T.tenant && tenants.includes(r.name)).map((r) => r.urn),
  );
  const out = new Map<string, string>();
  for (const r of resources) {
    if (roots.has(r.urn) || roots.has(r.parent)) out.set(r.urn, fingerprint(r));
  }
  return out;
}

describe("onboarding a tenant", () => {
  let base: ChildResult;
  let top: ChildResult;
  let bottom: ChildResult;
  const existing = ["markplus", "company2", "tenant1"];

  beforeAll(async () => {
    [base, top, bottom] = await Promise.all([
      evaluate(write("base.yaml", example)),
      evaluate(write("top.yaml", withNewTenant("top"))),
      evaluate(write("bottom.yaml", withNewTenant("bottom"))),
    ]);
  });

  it.each([
    ["at the top of the file", () => top],
    ["at the bottom of the file", () => bottom],
  ])("leaves every existing tenant's resources byte-identical when added %s", (_where, result) => {
    expect(base.ok, base.stderr).toBe(true);
    expect(result().ok, result().stderr).toBe(true);
    const before = tenantResources(base.run!.resources, existing);
    const after = tenantResources(result().run!.resources, existing);
    // 8 + 8 + 13, as `npm run plan` lists them, plus each tenant's backup key and backup step
    // and its TLS step, and the generation of its rolling service (frontend)
    expect(before.size).toBe(39);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [urn, print] of before) expect(after.get(urn), urn).toBe(print);
  });

  it("reports where each resource is defined, though index.ts builds with short stacks", () => {
    // components/promiseStacks.ts lowers Error.stackTraceLimit while resources are built; the
    // source position Pulumi shows for each resource must not suffer. (A child process: vitest's
    // own transform changes stack frames in-process.)
    const components = path.resolve(__dirname, "../../components");
    const custom = base.run!.resources.filter(
      (r) => r.custom && !r.type.startsWith("pulumi:providers:"),
    );
    expect(custom.length).toBeGreaterThan(0);
    for (const r of custom) {
      const file = r.sourcePosition.replace(/^file:\/\//, "").replace(/:\d+$/, "");
      expect(path.dirname(file), `${r.type} ${r.name}: "${r.sourcePosition}"`).toBe(components);
    }
  });

  it("adds only the new tenant's resources and changes on the host only the reload trigger", () => {
    const beforeUrns = new Set(base.run!.resources.map((r) => r.urn));
    const added = top.run!.resources.filter((r) => !beforeUrns.has(r.urn));
    expect(added.map((r) => r.name).sort()).toEqual([
      "newco",
      "newco-backup",
      "newco-backup-key",
      "newco-dns/newco.example.com",
      "newco-net",
      "newco-secret-SECRET_KEY",
      "newco-site",
      "newco-tls",
      "newco-web",
      "newco-web-files",
      "newco-web-instance",
    ]);
    const changed = top.run!.resources.filter((r) => {
      const old = base.run!.resources.find((o) => o.urn === r.urn);
      return old !== undefined && fingerprint(old) !== fingerprint(r);
    });
    expect(changed.map((r) => r.name)).toEqual(["vps1-nginx-reload"]);
  });
});

describe("refusing before any resource exists", () => {
  it("rejects an invalid manifest with every problem located, and registers nothing", async () => {
    const broken = example
      .replace("slot: 2", "slot: 1")
      .replace("plan: team", "plan: tema")
      .replace("domain: tenant1.example.com", "domain: tenant1.example.com; rm -rf /");
    const result = await evaluate(write("broken.yaml", broken));
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(
      /broken\.yaml:\d+:\d+ tenants\.company2\.slot: slot 1 on host "vps1" is already taken by tenant "markplus"/,
    );
    expect(result.stderr).toMatch(
      /broken\.yaml:\d+:\d+ tenants\.tenant1\.plan: unknown plan "tema" \(did you mean "team"\?\)/,
    );
    expect(result.stderr).toMatch(
      /broken\.yaml:\d+:\d+ tenants\.tenant1\.domain: must be a domain name/,
    );
    expect(result.stderr).toContain("registered: 0");
  });

  it("names the missing secretEnv config key and the command that sets it", async () => {
    const result = await evaluate(write("example.yaml", example), [
      "--no-secrets",
      "--config",
      "cloudflare:apiToken=token",
      "--config",
      "tenantry:sshPrivateKey=key",
    ]);
    expect(result.ok).toBe(false);
    const lines = example.split("\n");
    const line = lines.findIndex((l) => l.includes("secretEnv: [OPENAI_API_KEY] # pulumi")) + 1;
    const col = lines[line - 1]!.indexOf("OPENAI_API_KEY") + 1;
    expect(result.stderr).toContain(
      `example.yaml:${line}:${col} tenants.markplus.secretEnv[0]: stack config has no secret tenant.markplus.OPENAI_API_KEY; set it with: pulumi config set --secret tenant.markplus.OPENAI_API_KEY <value>`,
    );
    expect(result.stderr).toContain("tenants.company2.secretEnv[0]");
    expect(result.stderr).toContain("registered: 0");
  });

  it("asks for the Cloudflare token when a domain is in a managed zone", async () => {
    const result = await evaluate(write("example2.yaml", example), ["--no-secrets"]);
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(
      /example2\.yaml:\d+:\d+ dns\.zones: .*pulumi config set --secret cloudflare:apiToken/,
    );
  });
});
