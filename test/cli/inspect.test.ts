// The read-only commands run as a user runs them: list, capacity, render, schema and plan,
// their expectations computed from the manifest they read.
import { existsSync, readFileSync } from "node:fs";
import { serviceRollout } from "../../core/rollout";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { effectiveMode } from "../../core/tls";
import { serviceSecrets } from "../../manifest/rules";
import type { Manifest } from "../../manifest/schema";
import { dnsResourceName } from "../../core/names";
import { planTenant } from "../../plan/tenant";
import { renderSite } from "../../remote/nginx";
import {
  brokenExample,
  EXAMPLE,
  expectedPorts,
  isManaged,
  manifestOf,
  problemLines,
  tenantry,
  useScratch,
  withSecondHost,
} from "./run";

const scratch = useScratch();
const example = manifestOf(EXAMPLE);

/** The example on two hosts, with a tenant on vps2 whose domain is outside every zone. */
const TWO_HOSTS = `${withSecondHost(EXAMPLE)}
  shop:
    app: frontbase
    plan: small
    host: vps2
    slot: 1
    domain: shop.example.org
`;
const twoHosts = manifestOf(TWO_HOSTS);

let exampleDir: string;
let twoHostDir: string;
beforeAll(() => {
  exampleDir = scratch("example", { "tenants.yaml": EXAMPLE });
  twoHostDir = scratch("two-hosts", { "tenants.yaml": TWO_HOSTS });
});

/** A table's rows as cells (columns are separated by two or more spaces). */
function cells(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split("\n")
    .map((line) => line.split(/ {2,}/));
}

describe.concurrent("tenantry list", () => {
  it("has one row per tenant: state, app, plan, host, slot, domains, host ports, DNS", async () => {
    const result = await tenantry(twoHostDir, "list");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const rows = Object.entries(twoHosts.tenants).map(([name, t]) => {
      const domains = [t.domain, ...t.aliases];
      return [
        name,
        t.state ?? "active",
        t.app,
        t.plan,
        t.host,
        String(t.slot),
        domains.join(", "),
        expectedPorts(twoHosts, name)
          .map(([svc, port]) => `${svc}:${port}`)
          .join(", "),
        domains.map((d) => (isManaged(twoHosts, d) ? "managed" : "external")).join(", "),
        tlsCell(effectiveMode(t, twoHosts.hosts[t.host], twoHosts.tls).mode),
      ];
    });
    expect(cells(result.stdout)).toEqual([
      ["TENANT", "STATE", "APP", "PLAN", "HOST", "SLOT", "DOMAINS", "HOST PORTS", "DNS", "TLS"],
      ...rows,
    ]);
    // markplus keeps the port it already ran on, and its alias is the customer's DNS
    expect(cells(result.stdout).find((row) => row[0] === "markplus")).toEqual([
      ...["markplus", "active", "mcoder", "small", "vps1", "1"],
      ...["mcoder.example.com, mcoder.markplus.co.id", "web:8000", "managed, external", "acme"],
    ]);
  });
});

describe.concurrent("tenantry capacity", () => {
  it("shows per host the budget, allocated, free memory and how many more of each plan fit", async () => {
    const result = await tenantry(twoHostDir, "capacity");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const rows = Object.entries(twoHosts.hosts).map(([name, host]) => {
      const tenants = Object.values(twoHosts.tenants).filter((t) => t.host === name);
      const budget = host.memoryMb - host.reserveMb;
      const allocated = tenants.reduce((sum, t) => sum + twoHosts.plans[t.plan]!.memoryMb, 0);
      const free = budget - allocated;
      const fits = Object.entries(twoHosts.plans).map(
        ([plan, p]) => `${Math.floor(free / p.memoryMb)} ${plan}`,
      );
      return [name, `${budget} MB`, `${allocated} MB`, `${free} MB`, String(tenants.length)].concat(
        fits.join(", "),
      );
    });
    const lines = cells(result.stdout);
    expect(lines.slice(0, -1)).toEqual([
      ["HOST", "BUDGET", "ALLOCATED", "FREE", "TENANTS", "MORE THAT FIT"],
      ...rows,
    ]);
    expect(lines[lines.length - 1]!.join("  ")).toMatch(/^Budget is memoryMb minus reserveMb\b/);
  });
});

describe.concurrent("tenantry render", () => {
  it.each(["tenant1", "markplus"])(
    "prints exactly the nginx config the program installs for %s",
    async (name) => {
      const result = await tenantry(exampleDir, "render", name);
      expect(result).toEqual({
        code: 0,
        stdout: renderSite(planTenant(example, name).site),
        stderr: "",
      });
    },
  );

  it("names the tenants, with did-you-mean, for an unknown tenant: exit 2", async () => {
    const result = await tenantry(exampleDir, "render", "tenant2");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      'no tenant "tenant2" in tenants.yaml (did you mean "tenant1"?)',
    );
    expect(result.stderr).toContain(`tenants: ${Object.keys(example.tenants).join(", ")}`);
  });
});

describe.concurrent("tenantry schema", () => {
  it("prints a JSON Schema for the four sections, and --write stores exactly that", async () => {
    const dir = scratch("schema", {});
    const [printed, written] = await Promise.all([
      tenantry(dir, "schema"),
      tenantry(dir, "schema", "--write"),
    ]);
    expect(printed.code).toBe(0);
    const schema = JSON.parse(printed.stdout) as { type: string; properties: object };
    expect(schema.type).toBe("object");
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["hosts", "apps", "plans", "tenants"]),
    );
    expect(written.code).toBe(0);
    const file = path.join(dir, "schema", "tenants.schema.json");
    expect(written.stdout).toContain(path.join("schema", "tenants.schema.json"));
    expect(existsSync(file) && readFileSync(file, "utf8")).toBe(printed.stdout);
  });
});

/** The TLS cell of `tenantry list`: the mode, and what none means. */
const tlsCell = (mode: string): string => (mode === "none" ? "none (HTTP only)" : mode);

/** Resource names the program creates for a tenant, from the naming scheme in the style guide. */
function expectedResources(m: Manifest, name: string): string[] {
  const t = m.tenants[name]!;
  const services = Object.entries(m.apps[t.app]!.services);
  const secrets = new Set(
    services.flatMap(([, s]) => serviceSecrets(s.secrets).map((x) => x.secret)),
  );
  return [
    name,
    `${name}-site`,
    `${name}-net`,
    // Its backup key and backup step (README, "Day-2 operations").
    `${name}-backup`,
    `${name}-backup-key`,
    ...services.flatMap(([svc, s]) => [
      `${name}-${svc}`,
      ...Object.keys(s.volumes).map((vol) => `${name}-${svc}-${vol}`),
      // A rolling service's generation (its name and address: core/rollout.ts).
      ...(serviceRollout(s) === "rolling" ? [`${name}-${svc}-generation`] : []),
    ]),
    ...[...secrets].map((secret) => `${name}-secret-${secret}`),
    ...(isManaged(m, t.domain) ? [dnsResourceName(name, t.domain)] : []),
    // Its TLS step, unless it is served over HTTP only.
    ...(effectiveMode(t, m.hosts[t.host], m.tls).mode === "none" ? [] : [`${name}-tls`]),
  ].sort();
}

describe.concurrent("tenantry plan", () => {
  it("evaluates the example offline and lists each tenant's resources, exit 0", async () => {
    const result = await tenantry(exampleDir, "plan", "tenants.yaml");
    expect(result.code).toBe(0);
    const blocks = result.stdout.trimEnd().split("\n\n");
    let listedTotal =
      Number(/^ {2}shared +(\d+) resources$/m.exec(result.stdout)?.[1]) +
      Number(/^stack +(\d+) providers/m.exec(result.stdout)?.[1]);
    for (const [name, t] of Object.entries(example.tenants)) {
      const block = blocks.find((b) => b.startsWith(`tenant ${name} `));
      expect(block, `no block for tenant ${name}`).toBeDefined();
      const lines = block!.split("\n");
      expect(lines[0]).toMatch(
        new RegExp(
          `^tenant ${name} +app ${t.app} +plan ${t.plan} .* host ${t.host} +slot ${t.slot}$`,
        ),
      );
      const count = lines.findIndex((l) => /^ {2}resources +\d+$/.test(l));
      const listed = lines.slice(count + 1).map((l) => l.trim().split(/ +/));
      expect(lines[count]).toMatch(new RegExp(` ${listed.length}$`));
      expect(listed.map(([, resource]) => resource).sort()).toEqual(
        expectedResources(example, name),
      );
      const managed = [t.domain, ...t.aliases].filter((d) => isManaged(example, d));
      expect(listed.filter(([type]) => type === "cloudflare.DnsRecord")).toHaveLength(
        managed.length,
      );
      for (const [svc, port] of expectedPorts(example, name)) {
        expect(block).toContain(`${svc} → 127.0.0.1:${port}`);
      }
      listedTotal += listed.length;
    }
    const tenants = Object.keys(example.tenants).length;
    // Every resource is listed once: stack-wide providers, the host's, each tenant's.
    const total = new RegExp(`^(\\d+) resources for ${tenants} tenants on 1 host\\.$`, "m");
    expect(Number(total.exec(result.stdout)?.[1])).toBe(listedTotal);
    expect(result.stdout).toMatch(/\nNext: pulumi preview\b/);
  });

  it("on a broken manifest registers nothing and reports the problems validate reports, exit 1", async () => {
    const dir = scratch("plan-broken", { "tenants.yaml": brokenExample() });
    const [plan, validate] = await Promise.all([
      tenantry(dir, "plan", "tenants.yaml"),
      tenantry(dir, "validate", "tenants.yaml"),
    ]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toBe("");
    expect(validate.code).toBe(1);
    expect(problemLines(validate.stderr).problems).toHaveLength(4);
    expect(plan.stderr).toBe(validate.stderr);
  });

  it("names a missing manifest as a usage error, exit 2", async () => {
    const result = await tenantry(exampleDir, "plan", "customers.yaml");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^tenantry: [^\n]*\bcustomers\.yaml\b[^\n]*\n$/);
  });
});
