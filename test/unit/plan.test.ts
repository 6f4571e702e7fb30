// plan.ts: what a tenant gets, derived from the manifest alone (no Pulumi runtime).
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../manifest/load";
import { cpusRoundTrip } from "../../core/dockerValues";
import { serviceCpus } from "../../manifest/rules";
import type { App, Manifest } from "../../manifest/schema";
import { zoneFor } from "../../core/dns";
import { planDns, recordType } from "../../plan/dns";
import { planTenant } from "../../plan/tenant";
import { healthCheckCommand } from "../../remote/health";
import { renderSite } from "../../remote/nginx";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i";

function manifest(extraTenants = ""): Manifest {
  const text = `
hosts:
  vps1: { address: 203.0.113.10, user: deploy, hostKey: ${HOST_KEY}, memoryMb: 4096 }
  vps2: { address: vps2.example.net, user: root, hostKey: ${HOST_KEY}, memoryMb: 4096, portBase: 20000 }
dns:
  zones:
    example.com: 0123456789abcdef0123456789abcdef
    eu.example.com: fedcba9876543210fedcba9876543210
apps:
  stack:
    services:
      backend:
        image: ghcr.io/example/backend:1.0
        port: 8000
        route: /api
        portOffset: 0
        env: { LOG_LEVEL: info, COMPANY_NAME: App default }
        secrets: [DB_PASSWORD]
        weight: 2
      postgres:
        image: postgres:16-alpine
        port: 5432
        volumes: { data: /var/lib/postgresql/data }
        secrets: [POSTGRES_PASSWORD=DB_PASSWORD]
        tenantEnv: false
      frontend:
        image: ghcr.io/example/frontend:1.0
        port: 80
        route: /
        portOffset: 2
plans:
  small: { memoryMb: 400, cpus: 1 }
tenants:
  acme:
    app: stack
    plan: small
    host: vps1
    slot: 1
    domain: acme.eu.example.com
    aliases: [app.acme.io]
    env: { COMPANY_NAME: Acme }
    secretEnv: [OPENAI_API_KEY]
  beta:
    app: stack
    plan: small
    host: vps2
    slot: 7
    domain: beta.example.com
    ports: { frontend: 9090 }
${extraTenants}`;
  const result = parseManifest(text, "test.yaml");
  if (!result.ok) throw new Error(result.problems.map((p) => p.message).join("\n"));
  return result.loaded.manifest;
}

describe("planTenant", () => {
  const m = manifest();
  const acme = planTenant(m, "acme");
  const beta = planTenant(m, "beta");

  it("derives host ports from portBase, slot and each service's portOffset, with overrides", () => {
    expect(acme.ports).toEqual({ backend: 10010, frontend: 10012 });
    expect(beta.ports).toEqual({ backend: 20070, frontend: 9090 });
  });

  it("shares one generated secret between services that name it", () => {
    expect(acme.secrets).toEqual(["DB_PASSWORD"]);
    const postgres = acme.services.find((s) => s.name === "postgres")!;
    expect(postgres.generatedSecrets).toEqual([
      { env: "POSTGRES_PASSWORD", secret: "DB_PASSWORD" },
    ]);
  });

  it("lets tenant env override app env, and keeps it out of services that opt out", () => {
    const backend = acme.services.find((s) => s.name === "backend")!;
    expect(backend.env).toEqual({ COMPANY_NAME: "Acme", LOG_LEVEL: "info" });
    expect(backend.configSecrets).toEqual(["OPENAI_API_KEY"]);
    const postgres = acme.services.find((s) => s.name === "postgres")!;
    expect(postgres.env).toEqual({});
    expect(postgres.configSecrets).toEqual([]);
  });

  it("splits the plan's memory and CPU by weight", () => {
    expect(acme.services.map((s) => [s.name, s.memoryMb, s.cpus])).toEqual([
      ["backend", 200, 0.5],
      ["postgres", 100, 0.25],
      ["frontend", 100, 0.25],
    ]);
  });

  it("gives no service less than 0.10 CPU, the smallest share the Docker provider keeps", () => {
    const app = { services: { a: { weight: 3 }, b: { weight: 1 } } } as unknown as App;
    expect([serviceCpus(app, "a", 0.2), serviceCpus(app, "b", 0.2)]).toEqual([0.15, 0.1]);
    expect(cpusRoundTrip(serviceCpus(app, "b", 0.2))).toBe(true);
  });

  it("renders one site with every domain and one location per route", () => {
    expect(acme.site.marker).toBe("acme@vps1");
    expect(renderSite(acme.site)).toContain("server_name acme.eu.example.com app.acme.io;");
    expect(renderSite(acme.site)).toContain(
      "location /api/ {\n        proxy_pass http://127.0.0.1:10010;",
    );
    expect(renderSite(acme.site)).toContain(
      "location / {\n        proxy_pass http://127.0.0.1:10012;",
    );
  });

  it("manages DNS in the most specific zone and tells the customer what to create otherwise", () => {
    expect(acme.dns).toEqual([
      {
        domain: "acme.eu.example.com",
        managed: true,
        zone: "eu.example.com",
        zoneId: "fedcba9876543210fedcba9876543210",
        type: "A",
        content: "203.0.113.10",
      },
      {
        domain: "app.acme.io",
        managed: false,
        type: "A",
        content: "203.0.113.10",
        instruction:
          "outside every managed zone: the customer creates A app.acme.io → 203.0.113.10 at their DNS provider",
      },
    ]);
    // A host known by name gets a CNAME.
    expect(beta.dns[0]).toMatchObject({
      managed: true,
      type: "CNAME",
      content: "vps2.example.net",
    });
  });

  it("does not depend on other tenants: the same entry plans the same with more tenants around", () => {
    const more = manifest(`
  gamma:
    app: stack
    plan: small
    host: vps1
    slot: 2
    domain: gamma.example.com
`);
    expect(planTenant(more, "acme")).toEqual(acme);
    expect(planTenant(more, "beta")).toEqual(beta);
  });
});

describe.each([
  ["203.0.113.10", "A"],
  ["2001:db8::1", "AAAA"],
  ["vps1.example.net", "CNAME"],
])("recordType(%s)", (target, type) => {
  it(`is ${type}`, () => expect(recordType(target)).toBe(type));
});

describe.each([
  ["example.com", "example.com"],
  ["a.example.com", "example.com"],
  ["a.eu.example.com", "eu.example.com"],
  ["notexample.com", undefined],
  ["example.com.evil.io", undefined],
])("zoneFor(%s)", (domain, zone) => {
  it(`is ${String(zone)}`, () =>
    expect(zoneFor(domain, { "example.com": "x", "eu.example.com": "y" })).toBe(zone));
});

describe("planDns", () => {
  it("never manages a domain that only ends with a zone's text", () => {
    expect(planDns("badexample.com", "203.0.113.10", { "example.com": "z" }).managed).toBe(false);
  });
});

describe("healthCheckCommand", () => {
  it("tries curl, wget, then python3 against the container port", () => {
    expect(healthCheckCommand(8000, "/api/health")).toEqual([
      "CMD-SHELL",
      "curl -fsS -o /dev/null http://127.0.0.1:8000/api/health || wget -q -O /dev/null http://127.0.0.1:8000/api/health || python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)' http://127.0.0.1:8000/api/health || exit 1",
    ]);
  });

  it.runIf(hasShellcheck())("passes shellcheck", () => {
    const [, body] = healthCheckCommand(8080, "/health-check/v1");
    expect(() =>
      execFileSync("shellcheck", ["-s", "sh", "-"], { input: `#!/bin/sh\n${body}\n` }),
    ).not.toThrow();
  });
});

function hasShellcheck(): boolean {
  try {
    execFileSync("shellcheck", ["--version"]);
    return true;
  } catch {
    if (process.env.CI === "true")
      throw new Error("shellcheck is required in CI (.ci/run installs it)");
    return false;
  }
}
