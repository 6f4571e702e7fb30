// The TLS resources of the program under mocks: a TLS step per tenant served over HTTPS, after
// its site (and, for wildcard, after its host's certificate step), a DNS-01 step per host and
// zone whose Cloudflare token is a secret on stdin, and nothing for tenants served over HTTP.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OFFLINE_SECRET, type RecordedResource } from "../../cli/offline";
import { parseManifest } from "../../manifest/load";
import { planTenant } from "../../plan/tenant";
import { renderTlsSite } from "../../remote/nginx";
import { ENTRY_POINT } from "../../remote/operation";
import { evaluate, isSecret, named, reveal, T } from "./helpers";

const MANIFEST = `
hosts:
  vps1:
    address: 203.0.113.10
    user: deploy
    hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i
    memoryMb: 2048
dns:
  zones:
    example.com: 0123456789abcdef0123456789abcdef
tls:
  email: ops@example.com
apps:
  site:
    services:
      web: { image: "ghcr.io/example/site:1.0.0", port: 8000, route: / }
plans:
  small: { memoryMb: 128, cpus: 0.5 }
tenants:
  acme: { app: site, plan: small, host: vps1, slot: 1, domain: shop.acme-customer.org, aliases: [www.acme-customer.org] }
  globex: { app: site, plan: small, host: vps1, slot: 2, domain: globex.example.com, tls: wildcard, hsts: true }
  initech: { app: site, plan: small, host: vps1, slot: 3, domain: initech.example.com, tls: wildcard }
  hooli: { app: site, plan: small, host: vps1, slot: 4, domain: hooli.example.com, tls: none }
`;

let dir: string;
let resources: RecordedResource[];
const command = (name: string) => named(resources, T.command, name);
const text = (value: unknown) => String(reveal(value));
/** The words a command hands to the root entry point (through sudo: the user is deploy). */
function entryWords(value: unknown): string[] {
  const line = text(value);
  const at = line.lastIndexOf(` ${ENTRY_POINT} `);
  expect(at, line).toBeGreaterThan(0);
  expect(line.startsWith("/bin/sh -c ")).toBe(true);
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${line.slice(at + 1)}`], {
    encoding: "utf8",
  });
  return out.split("\0").slice(0, -1);
}
/** The host's nginx arguments: Debian's layout, and CONFIG empty (nginx's default main config). */
const LAYOUT = ["/etc/nginx/tenantry", "/etc/nginx/conf.d/tenantry.conf", ""];
const LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "tenantry-tls-program-"));
  const file = path.join(dir, "tenants.yaml");
  writeFileSync(file, MANIFEST);
  const result = await evaluate(file);
  if (!result.ok || result.run === undefined) throw new Error(result.stderr);
  resources = result.run.resources;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("TLS resources under mocks", () => {
  const manifest = () => {
    const parsed = parseManifest(MANIFEST, "tenants.yaml");
    if (!parsed.ok) throw new Error("the test manifest is invalid");
    return parsed.loaded.manifest;
  };

  it("gives an acme tenant a TLS step after its site that asks certbot for its own names", () => {
    const tls = command("acme-tls");
    const site = command("acme-site");
    const component = named(resources, T.tenant, "acme");
    expect(tls.parent).toBe(component.urn);
    expect(tls.dependencies).toContain(site.urn);
    expect(tls.deleteBeforeReplace).toBe(true);
    expect(reveal(tls.inputs.triggers)).toEqual(["acme@vps1", "tenantry-acme"]);
    expect(text(tls.inputs.stdin)).toBe(renderTlsSite(planTenant(manifest(), "acme").site));
    // certbot asks for its lineage, from the manifest's account, for its own names.
    expect(entryWords(tls.inputs.create)).toEqual([
      ENTRY_POINT,
      "tenant-tls-acme",
      ...LAYOUT,
      "acme",
      "acme@vps1",
      "tenantry-acme",
      LETS_ENCRYPT,
      "ops@example.com",
      "shop.acme-customer.org",
      "www.acme-customer.org",
    ]);
    // Its delete runs certbot delete for that lineage.
    expect(entryWords(tls.inputs.delete)).toEqual([
      ENTRY_POINT,
      "tenant-tls-remove-acme",
      ...LAYOUT,
      "acme",
      "acme@vps1",
      "tenantry-acme",
    ]);
    // Its HTTP site answers the challenge and includes the redirect the step writes.
    expect(text(site.inputs.stdin)).toContain("location ^~ /.well-known/acme-challenge/ {");
    expect(text(site.inputs.stdin)).toContain(
      "include /etc/nginx/tenantry/tls/acme/redirect*.conf;",
    );
  });

  it("requests one *.example.com certificate on the host, with the DNS-01 token a secret on stdin", () => {
    const host = named(resources, T.host, "vps1");
    const wildcards = resources.filter((r) => r.type === T.command && r.name.includes("wildcard"));
    expect(wildcards.map((r) => r.name)).toEqual(["vps1-tenantry-wildcard-example.com"]);
    const step = wildcards[0]!;
    expect(step.parent).toBe(host.urn);
    expect(step.dependencies).toContain(named(resources, T.command, "vps1-bootstrap").urn);
    expect(isSecret(step.inputs.stdin)).toBe(true);
    expect(text(step.inputs.stdin)).toBe(`dns_cloudflare_api_token = ${OFFLINE_SECRET}\n`);
    expect(step.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
    // DNS-01 for *.example.com, the credentials file derived from the zone on the host.
    expect(entryWords(step.inputs.create)).toEqual([
      ENTRY_POINT,
      "wildcard-certificate",
      ...LAYOUT,
      "tenantry-wildcard-example.com",
      "example.com",
      LETS_ENCRYPT,
      "ops@example.com",
    ]);
    expect(entryWords(step.inputs.delete)).toEqual([
      ENTRY_POINT,
      "wildcard-remove",
      ...LAYOUT,
      "tenantry-wildcard-example.com",
      "example.com",
    ]);
  });

  it("lets wildcard tenants wait for the host's certificate and ask for none of their own", () => {
    const step = command("vps1-tenantry-wildcard-example.com");
    for (const tenant of ["globex", "initech"]) {
      const tls = command(`${tenant}-tls`);
      expect(tls.dependencies).toEqual(
        expect.arrayContaining([command(`${tenant}-site`).urn, step.urn]),
      );
      // The host's lineage, which the step checks for and never asks certbot for.
      expect(entryWords(tls.inputs.create)).toEqual([
        ENTRY_POINT,
        "tenant-tls-wildcard",
        ...LAYOUT,
        tenant,
        `${tenant}@vps1`,
        "tenantry-wildcard-example.com",
        "example.com",
      ]);
      // Its delete leaves the shared lineage to the host's step.
      expect(entryWords(tls.inputs.delete)).toEqual([
        ENTRY_POINT,
        "tenant-tls-remove",
        ...LAYOUT,
        tenant,
        `${tenant}@vps1`,
      ]);
    }
    expect(text(command("globex-tls").inputs.stdin)).toContain("Strict-Transport-Security");
    expect(text(command("initech-tls").inputs.stdin)).not.toContain("Strict-Transport-Security");
  });

  it("creates no TLS step for a tenant served over HTTP only, and its site has no challenge location", () => {
    expect(resources.some((r) => r.name === "hooli-tls")).toBe(false);
    const site = text(command("hooli-site").inputs.stdin);
    expect(site).not.toContain("acme-challenge");
    expect(site).not.toContain("/tls/");
  });

  it("keeps every secret out of command text, and puts the HTTPS default server in the host include", () => {
    for (const r of resources.filter((x) => x.type === T.command)) {
      expect(text(r.inputs.create)).not.toContain(OFFLINE_SECRET);
      expect(text(r.inputs.delete ?? "")).not.toContain(OFFLINE_SECRET);
    }
    const include = text(command("vps1-bootstrap").inputs.stdin);
    expect(include).toContain("    listen 443 ssl http2 default_server;\n");
    expect(include).toContain("    ssl_reject_handshake on;\n");
  });
});
