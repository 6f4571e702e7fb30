// The TLS parts of the CLI as a user runs them: validate and plan count what a change would ask
// Let's Encrypt for (against --since, the manifest applied now), warn near a limit with the
// line of the first tenant concerned, refuse past one (exit 1); plan and list say how each
// tenant is served.
import { describe, expect, it } from "vitest";
import { PULUMI_YAML, tenantry, useScratch } from "./run";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i";

/** A manifest with `n` tenants `t1..tn` at `t<i>.<domain>` on one roomy host. */
function manifest(n: number, domain: string, extra: Record<number, string> = {}): string {
  const tenants = Array.from(
    { length: n },
    (_, k) =>
      `  t${k + 1}:\n    app: site\n    plan: tiny\n    host: vps1\n    slot: ${k + 1}\n    domain: t${k + 1}.${domain}${extra[k + 1] ? `\n    ${extra[k + 1]}` : ""}`,
  );
  return [
    "hosts:",
    "  vps1:",
    "    address: 203.0.113.10",
    "    user: deploy",
    `    hostKey: ${KEY}`,
    "    memoryMb: 100000",
    "dns:",
    "  zones:",
    "    example.com: 0123456789abcdef0123456789abcdef",
    "apps:",
    "  site:",
    "    services:",
    "      web: { image: 'ghcr.io/example/site:1.0.0', port: 8000, route: / }",
    "plans:",
    "  tiny: { memoryMb: 16, cpus: 0.1 }",
    n === 0 ? "tenants: {}" : "tenants:",
    ...tenants,
    "",
  ].join("\n");
}

/** Line and column of tenant `t1`'s domain value in `manifest(...)`'s text. */
const T1_DOMAIN = "22:13";

describe("the DNS-01 token in the stack", () => {
  const scratch = useScratch();
  const secure = (key: string) => `  ${key}:\n    secure: v1:AAAA\n`;

  it("is asked for, at the key that made a tenant wildcard, and only then", async () => {
    const wildcard = manifest(1, "example.com", { 1: "tls: wildcard" });
    const stack = (extra: string) =>
      `config:\n  tenantry:tenantsFile: tenants.yaml\n${secure("cloudflare:apiToken")}${extra}`;
    const dir = scratch("token", {
      "tenants.yaml": wildcard,
      "Pulumi.yaml": PULUMI_YAML,
      "Pulumi.dev.yaml": stack(""),
    });
    const missing = await tenantry(dir, "validate", "--stack", "dev");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'tenants.yaml:23:10 tenants.t1.tls: tenant "t1" is served with the host\'s wildcard certificate, which certbot gets and renews through DNS-01, but the stack has no acmeDnsToken; set it with: pulumi config set --secret acmeDnsToken <Cloudflare token with Zone.DNS edit on the wildcard zones>',
    );
    const set = scratch("token-set", {
      "tenants.yaml": wildcard,
      "Pulumi.yaml": PULUMI_YAML,
      "Pulumi.dev.yaml": stack(secure("tenantry:acmeDnsToken")),
    });
    expect((await tenantry(set, "validate", "--stack", "dev")).code).toBe(0);
    const acme = scratch("token-acme", {
      "tenants.yaml": manifest(1, "example.com"),
      "Pulumi.yaml": PULUMI_YAML,
      "Pulumi.dev.yaml": stack(""),
    });
    expect((await tenantry(acme, "validate", "--stack", "dev")).code).toBe(0);
  });
});

describe("Let's Encrypt limits in validate and plan", () => {
  const scratch = useScratch();

  it("refuses a change past 50 new certificates under one registered domain, and suggests wildcard", async () => {
    const dir = scratch("refuse", {
      "before.yaml": manifest(0, "example.com"),
      "tenants.yaml": manifest(51, "example.com"),
    });
    const result = await tenantry(dir, "validate", "--since", "before.yaml");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `tenants.yaml:${T1_DOMAIN} tenants.t1.domain: this change requests 51 new certificates under example.com (t1, t2, t3 and 48 more); Let's Encrypt issues at most 50 per registered domain per 7 days, including any issued earlier in that window; 51 of them sit directly under managed zone example.com: set tls: wildcard (on the tenants, their host or tls.mode) and they share one certificate per host`,
    );
    expect(result.stdout).toBe("");
  });

  it("accepts the same tenants in wildcard mode: one certificate for the host", async () => {
    const text = manifest(51, "example.com").replace("apps:", "tls:\n  mode: wildcard\napps:");
    const dir = scratch("wildcard", {
      "before.yaml": manifest(0, "example.com"),
      "tenants.yaml": text,
    });
    const result = await tenantry(dir, "validate", "--since", "before.yaml");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const plan = await tenantry(dir, "plan", "--since", "before.yaml");
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(
      "tls        since before.yaml, this change requests 1 certificate (per registered domain: example.com 1); from Let's Encrypt (https://acme-v02.api.letsencrypt.org/directory)",
    );
    expect(plan.stdout).toContain(
      "  tls        wildcard (default from tls.mode): the host's *.example.com certificate (DNS-01), shared: requests nothing of its own; HTTP redirects to HTTPS",
    );
  });

  it("warns near the limit with the file position, and still validates", async () => {
    const dir = scratch("near", {
      "before.yaml": manifest(0, "example.org"),
      "tenants.yaml": manifest(42, "example.org"),
    });
    const result = await tenantry(dir, "validate", "--since", "before.yaml");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `tenants.yaml:${T1_DOMAIN} tenants.t1.domain: warning: this change requests 42 new certificates under example.org (t1, t2, t3 and 39 more); Let's Encrypt issues at most 50 per registered domain per 7 days, including any issued earlier in that window: 8 left at most; onboard in batches across weeks\n`,
    );
    expect(result.stdout).toBe(
      "tenants.yaml: valid, 42 tenants on 1 host, 672/99744 MB allocated\n",
    );
  });

  it("counts only what changed since the applied manifest", async () => {
    const dir = scratch("since", {
      "before.yaml": manifest(48, "example.org"),
      "tenants.yaml": manifest(51, "example.org"),
    });
    const plan = await tenantry(dir, "plan", "--since", "before.yaml");
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toBe("");
    expect(plan.stdout).toContain(
      "tls        since before.yaml, this change requests 3 certificates (per registered domain: example.org 3); from Let's Encrypt",
    );
    // Without --since the count is a first apply's: past the limit it warns, never refuses.
    const first = await tenantry(dir, "validate");
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(
      "warning: a first apply of this manifest requests 51 new certificates under example.org",
    );
  });

  it("says which tenants are served over HTTP only, in plan and list", async () => {
    const dir = scratch("none", { "tenants.yaml": manifest(2, "example.org", { 2: "tls: none" }) });
    const plan = await tenantry(dir, "plan");
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(
      "  url        http://t2.example.org\n  tls        none: HTTP only, no certificate\n",
    );
    expect(plan.stdout).toContain(
      "  url        https://t1.example.org\n  tls        acme (default from tls.mode): own certificate for t1.example.org (HTTP-01); HTTP redirects to HTTPS\n",
    );
    const https = await tenantry(dir, "render", "t1", "--https");
    expect(https.code, https.stderr).toBe(0);
    expect(https.stdout).toMatch(/^# tenantry-site: t1@vps1\n/);
    expect(https.stdout).toContain("    listen 443 ssl http2;\n");
    expect(https.stdout).toContain(
      "    ssl_certificate /etc/letsencrypt/live/tenantry-t1/fullchain.pem;\n",
    );
    const plain = await tenantry(dir, "render", "t2", "--https");
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain(
      "tenant t2 is served over HTTP only (tls: none): it has no HTTPS server",
    );
    const list = await tenantry(dir, "list");
    expect(list.code).toBe(0);
    const rows = list.stdout.split("\n");
    expect(rows[0]).toMatch(/ TLS$/);
    expect(rows.find((r) => r.startsWith("t1 "))).toMatch(/ acme$/);
    expect(rows.find((r) => r.startsWith("t2 "))).toMatch(/ none \(HTTP only\)$/);
  });
});
