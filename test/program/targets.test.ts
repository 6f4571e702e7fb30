// `tenantry targets`: the --target URNs for onboarding or changing a few tenants, from the
// program evaluated under mocks, formed as the engine forms URNs (urn.go), closed over what the
// engine requires (parents, dependencies, providers), and the same size at 10 and 100 tenants.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { generationResourceName, serviceRollout } from "../../core/rollout";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { targetUrns } from "../../cli/commands/targets";
import type { OfflineRun } from "../../cli/offline";
import {
  containerName,
  dnsResourceName,
  imageSlug,
  networkName,
  secretResourceName,
  siteResourceName,
  volumeName,
} from "../../core/names";
import { effectiveMode } from "../../core/tls";
import { parseUrn } from "../../preview/urn";
import { EXAMPLE, isManaged, manifestOf, PULUMI_YAML, tenantry } from "../cli/run";
import { evaluate } from "./helpers";

const SCOPE = { stack: "prod", project: "tenantry" };
const dir = mkdtempSync(path.join(tmpdir(), "tenantry-targets-"));

/** The example plus host vps2 whose first (and only) tenant is shop. */
const NEW_HOST = (() => {
  const doc = parseDocument(EXAMPLE);
  doc.setIn(["hosts", "vps2"], {
    address: "203.0.113.20",
    user: "deploy",
    hostKey: String(doc.getIn(["hosts", "vps1", "hostKey"])),
    memoryMb: 2048,
  });
  doc.setIn(["tenants", "shop"], {
    app: "mcoder",
    plan: "small",
    host: "vps2",
    slot: 1,
    domain: "shop.example.com",
  });
  return String(doc);
})();

/** The example's apps and one big host with `n` single-service tenants, then newco. */
function fleet(n: number): string {
  const doc = parseDocument(EXAMPLE);
  doc.setIn(["hosts", "vps1", "memoryMb"], 65_536);
  doc.set("tenants", doc.createNode({}));
  for (let i = 1; i <= n + 1; i++) {
    const name = i <= n ? `t${String(i).padStart(3, "0")}` : "newco";
    doc.setIn(["tenants", name], {
      app: "mcoder",
      plan: "small",
      host: "vps1",
      slot: i,
      domain: `${name}.example.com`,
    });
  }
  return String(doc);
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function run(name: string, text: string): Promise<OfflineRun> {
  const result = await evaluate(write(name, text));
  if (!result.ok || !result.run) throw new Error(result.stderr);
  return result.run;
}

const TENANT = "tenantry:index:TenantInstance";
const HOST = "tenantry:index:Host";
const u = (qualifiedType: string, name: string) =>
  `urn:pulumi:prod::tenantry::${qualifiedType}::${name}`;

/** What a tenant's targets must be, from its manifest entry and the naming rules. */
function expectedTargets(text: string, tenant: string): string[] {
  const m = manifestOf(text);
  const t = m.tenants[tenant]!;
  const services = m.apps[t.app]!.services;
  const child = (type: string, name: string) => u(`${TENANT}$${type}`, name);
  const onHost = (type: string, name: string) => u(`${HOST}$${type}`, name);
  const domains = [t.domain, ...t.aliases];
  const secrets = new Set(
    Object.values(services).flatMap((s) => s.secrets.map((x) => x.split("=").pop()!)),
  );
  return [
    u(HOST, t.host),
    onHost("command:remote:Command", `${t.host}-bootstrap`),
    onHost("command:remote:Command", `${t.host}-nginx-reload`),
    ...[...new Set(Object.values(services).map((s) => s.image))].flatMap((image) => [
      onHost("docker:index/remoteImage:RemoteImage", `${t.host}-image-${imageSlug(image)}`),
      // The step that removes the image once unused: its containers depend on it.
      onHost("command:remote:Command", `${t.host}-image-cleanup-${imageSlug(image)}`),
    ]),
    u(TENANT, tenant),
    child("docker:index/network:Network", networkName(tenant)),
    ...Object.entries(services).flatMap(([svc, s]) => [
      child("docker:index/container:Container", containerName(tenant, svc)),
      ...Object.keys(s.volumes).map((v) =>
        child("docker:index/volume:Volume", volumeName(tenant, svc, v)),
      ),
      // A rolling service's generation: its container's name and address depend on it.
      ...(serviceRollout(s) === "rolling"
        ? [
            child(
              "random:index/randomId:RandomId",
              generationResourceName(containerName(tenant, svc)),
            ),
          ]
        : []),
    ]),
    ...[...secrets].map((s) =>
      child("random:index/randomPassword:RandomPassword", secretResourceName(tenant, s)),
    ),
    ...domains.flatMap((d) =>
      isManaged(m, d)
        ? [child("cloudflare:index/dnsRecord:DnsRecord", dnsResourceName(tenant, d))]
        : [],
    ),
    child("command:remote:Command", siteResourceName(tenant)),
    // Its nightly backup schedule (on by default) and the repository's generated key.
    child("command:remote:Command", `${tenant}-backup`),
    child("random:index/randomPassword:RandomPassword", `${tenant}-backup-key`),
    // Its TLS step (after its site), unless it is served over HTTP only.
    ...(effectiveMode(t, m.hosts[t.host], m.tls).mode === "none"
      ? []
      : [child("command:remote:Command", `${tenant}-tls`)]),
  ].sort();
}

describe("tenantry targets", () => {
  let example: OfflineRun;
  let newHost: OfflineRun;
  let small: OfflineRun;
  let large: OfflineRun;

  beforeAll(async () => {
    [example, newHost, small, large] = await Promise.all([
      run("example.yaml", EXAMPLE),
      run("new-host.yaml", NEW_HOST),
      run("small.yaml", fleet(10)),
      run("large.yaml", fleet(100)),
    ]);
  });

  it("a multi-service tenant: its containers, volumes, secrets, DNS and site, the images it runs, the host's bootstrap and reload", () => {
    const targets = targetUrns(example.resources, ["tenant1"], SCOPE);
    expect([...targets].sort()).toEqual(expectedTargets(EXAMPLE, "tenant1"));
    // Four services, each container its own target, as the engine names it.
    expect(targets).toContain(
      "urn:pulumi:prod::tenantry::tenantry:index:TenantInstance$docker:index/container:Container::tenant1-redis",
    );
    expect(targets.filter((t) => t.includes("$docker:index/container:Container::"))).toHaveLength(
      4,
    );
    // Nothing of the other tenants on the host, even though the reload step waits for them.
    expect(targets.filter((t) => /::(markplus|company2)/.test(t))).toEqual([]);
  });

  it("a host's first tenant brings the new host's shared resources, and nothing of the other host", () => {
    const targets = targetUrns(newHost.resources, ["shop"], SCOPE);
    expect([...targets].sort()).toEqual(expectedTargets(NEW_HOST, "shop"));
    expect(targets).toContain("urn:pulumi:prod::tenantry::tenantry:index:Host::vps2");
    expect(targets.filter((t) => t.includes("vps1"))).toEqual([]);
  });

  it("several tenants at once: the union, each host's shared resources once", () => {
    const both = targetUrns(newHost.resources, ["shop", "markplus"], SCOPE);
    const union = new Set([
      ...targetUrns(newHost.resources, ["shop"], SCOPE),
      ...targetUrns(newHost.resources, ["markplus"], SCOPE),
    ]);
    expect(new Set(both)).toEqual(union);
    expect(both).toHaveLength(union.size);
  });

  it("is closed as the engine requires: every parent, dependency and provider is targeted, implicit (a provider) or another tenant's (only for the reload step)", () => {
    const scope = { stack: "offline", project: "tenantry" }; // the mocks' own URNs
    const targets = new Set(targetUrns(example.resources, ["tenant1"], scope));
    const byUrn = new Map(example.resources.map((r) => [r.urn, r]));
    for (const r of example.resources.filter((x) => targets.has(x.urn))) {
      const needs = [r.parent, r.provider.split("::").slice(0, -1).join("::"), ...r.dependencies];
      for (const urn of needs.filter((n) => n !== "")) {
        const dep = byUrn.get(urn)!;
        const implicit = dep.type.startsWith("pulumi:providers:");
        const otherTenant = r.name === "vps1-nginx-reload" && !urn.includes("tenant1");
        expect(targets.has(urn) || implicit || otherTenant, `${r.name} needs ${urn}`).toBe(true);
      }
    }
    // The mocks form URNs as the engine does for this program's depth.
    expect([...targets].every((t) => byUrn.has(t))).toBe(true);
  });

  it("onboarding one tenant targets the same resources at 10 and at 100 tenants", () => {
    const names = (r: OfflineRun) =>
      targetUrns(r.resources, ["newco"], SCOPE).map((t) => parseUrn(t)!.name);
    expect(names(small)).toEqual(names(large));
    // The tenant's own resources (with its TLS and backup steps) plus its host's shared ones:
    // a handful, whatever the fleet size.
    expect(names(small).length).toBeLessThan(20);
    expect(large.resources.length).toBeGreaterThan(8 * small.resources.length);
  });

  it("the command prints --target flags for the stack named, and refuses an unknown tenant", async () => {
    const cwd = path.join(dir, "project");
    mkdirSync(cwd, { recursive: true });
    writeFileSync(path.join(cwd, "tenants.yaml"), EXAMPLE);
    writeFileSync(path.join(cwd, "Pulumi.yaml"), PULUMI_YAML);
    const ok = await tenantry(cwd, "targets", "markplus", "--stack", "acme-org/tenantry/prod");
    expect(ok.code).toBe(0);
    const expected = expectedTargets(EXAMPLE, "markplus");
    expect(ok.stdout.trimEnd().split("\n").sort()).toEqual(expected.map((t) => `--target=${t}`));
    expect(ok.stderr).toBe(
      `tenantry targets: ${expected.length} resources for markplus on vps1 (stack prod); use as: pulumi up $(npx tenantry targets markplus --stack acme-org/tenantry/prod)\n`,
    );
    const unknown = await tenantry(cwd, "targets", "markplu", "--stack", "prod");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^tenantry: no tenant "markplu" in tenants\.yaml.*markplus/);
    const noStack = await tenantry(cwd, "targets", "markplus");
    expect(noStack.code).toBe(2);
    expect(noStack.stderr).toContain("required option '-s, --stack <name>' not specified");
  });
});
