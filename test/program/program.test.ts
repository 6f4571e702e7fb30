// The Pulumi program evaluated under mocks on the example manifest: what every resource kind
// receives. One evaluation for the whole file (the runtime is process-global).
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  OFFLINE_SECRET,
  runOffline,
  type OfflineRun,
  type RecordedResource,
} from "../../cli/offline";
import { loadManifest } from "../../manifest/load";
import { planTenants, type TenantPlan } from "../../plan/tenant";
import { laneAddress } from "../../core/rollout";
import { withUpstreams } from "../../plan/site";
import { renderSite } from "../../remote/nginx";
import { byType, isSecret, named, reveal, T } from "./helpers";

const manifestFile = path.resolve(__dirname, "../../tenants.yaml");
const plans: TenantPlan[] = planTenants(loadManifest(manifestFile).manifest);
let run: OfflineRun;
let resources: RecordedResource[];

beforeAll(async () => {
  run = await runOffline({ tenantsFile: manifestFile });
  resources = run.resources;
});

const tenantOf = (r: RecordedResource) =>
  resources.find((p) => p.urn === r.parent && p.type === T.tenant)?.name;

describe("program on the example manifest", () => {
  it("creates one TenantInstance per tenant, and every child is parented to it", () => {
    const components = byType(resources, T.tenant).map((r) => r.name);
    expect(components.sort()).toEqual(plans.map((p) => p.name).sort());
    for (const type of [T.network, T.volume, T.container, T.password, T.dns]) {
      for (const r of byType(resources, type)) {
        expect(tenantOf(r), `${type} ${r.name}`).toBeDefined();
        expect(r.name.startsWith(`${tenantOf(r)}-`)).toBe(true);
      }
    }
  });

  it("gives every custom resource an explicit provider", () => {
    const custom = resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
    expect(custom.length).toBeGreaterThan(0);
    for (const r of custom) expect(r.provider, `${r.type} ${r.name}`).not.toBe("");
    const dockerProviders = byType(resources, T.dockerProvider).map((p) => p.urn);
    for (const r of resources.filter((x) => x.type.startsWith("docker:"))) {
      expect(dockerProviders).toContain(r.provider.split("::").slice(0, -1).join("::"));
    }
  });

  it("gives each tenant its own network and attaches its containers to that network only", () => {
    const networks = byType(resources, T.network);
    expect(networks.map((n) => n.inputs.name).sort()).toEqual(
      plans.map((p) => `${p.name}-net`).sort(),
    );
    for (const c of byType(resources, T.container)) {
      const tenant = tenantOf(c)!;
      const attached = c.inputs.networksAdvanced as Array<{ name: string; aliases: string[] }>;
      expect(attached).toHaveLength(1);
      expect(attached[0]!.name).toBe(`${tenant}-net`);
      // Compose-style discovery: the service name is the alias on the tenant network.
      expect(attached[0]!.aliases).toEqual([c.name.slice(tenant.length + 1)]);
      expect(c.inputs.networkMode).toBeUndefined();
    }
  });

  it("publishes routed services on loopback at the planned port and internal ones not at all", () => {
    for (const plan of plans) {
      for (const svc of plan.services) {
        const c = named(resources, T.container, `${plan.name}-${svc.name}`);
        const ports = c.inputs.ports as Array<{ internal: number; external: number; ip: string }>;
        if (svc.route === undefined) {
          expect(ports, c.name).toEqual([]);
        } else {
          // A rolling service's generation publishes on an address of its own in 127.0.0.0/8
          // (core/rollout.ts laneAddress, from the hex in its name); the others on 127.0.0.1.
          const ip =
            svc.rollout === "rolling"
              ? laneAddress((c.inputs.name as string).slice(-6))
              : "127.0.0.1";
          expect(ports, c.name).toEqual([
            { internal: svc.port, external: plan.ports[svc.name], ip, protocol: "tcp" },
          ]);
        }
      }
    }
    expect(named(resources, T.container, "tenant1-frontend").inputs.name).toMatch(
      /^tenant1-frontend-[0-9a-f]{6}$/,
    );
    const markplus = named(resources, T.container, "markplus-web").inputs.ports as Array<{
      external: number;
    }>;
    expect(markplus[0]!.external).toBe(8000); // the fixed override from tenants.yaml
  });

  it("runs containers with restart policy, plan limits and bounded logs", () => {
    const web = named(resources, T.container, "company2-web").inputs;
    expect(web).toMatchObject({
      name: "company2-web",
      restart: "unless-stopped",
      memory: 300,
      memorySwap: 300,
      cpus: "0.5", // as the provider reads it back (core/dockerValues.ts)
      logDriver: "json-file",
      logOpts: { "max-size": "10m", "max-file": "3" },
    });
    // frontbase on plan team (600 MB, 1 CPU) split by weight 3:1:1:1.
    expect(named(resources, T.container, "tenant1-backend").inputs).toMatchObject({
      memory: 300,
      cpus: "0.5",
    });
    expect(named(resources, T.container, "tenant1-redis").inputs).toMatchObject({
      memory: 100,
      cpus: "0.16",
    });
    const health = web.healthcheck as { tests: string[] };
    expect(health.tests[0]).toBe("CMD-SHELL");
    expect(health.tests[1]).toContain("http://127.0.0.1:8000/api/health");
  });

  it("names volumes <tenant>-<service>-<volume>, keeps them on delete and mounts them", () => {
    const volumes = byType(resources, T.volume);
    expect(volumes.map((v) => v.inputs.name).sort()).toEqual(
      plans
        .flatMap((p) =>
          p.services.flatMap((s) => s.volumes.map((v) => `${p.name}-${s.name}-${v.name}`)),
        )
        .sort(),
    );
    for (const v of volumes) {
      expect(v.retainOnDelete, v.name).toBe(true);
      expect(v.inputs.name).toBe(v.name);
    }
    expect(named(resources, T.container, "markplus-web").inputs.volumes).toEqual([
      { volumeName: "markplus-web-instance", containerPath: "/app/instance" },
      { volumeName: "markplus-web-files", containerPath: "/app/files" },
    ]);
  });

  it("generates one random password per declared secret and passes it only as a secret", () => {
    expect(
      byType(resources, T.password)
        .map((p) => p.name)
        .sort(),
    ).toEqual([
      "company2-backup-key",
      "company2-secret-SECRET_KEY",
      "markplus-backup-key",
      "markplus-secret-SECRET_KEY",
      "tenant1-backup-key",
      "tenant1-secret-DB_PASSWORD",
      "tenant1-secret-REDIS_TOKEN",
    ]);
    for (const p of byType(resources, T.password)) {
      expect(p.inputs).toMatchObject({ length: 32, special: false });
    }
    for (const c of byType(resources, T.container)) {
      const envs = reveal(c.inputs.envs) as string[];
      const carriesSecret = envs.some((e) =>
        /^(SECRET_KEY|DB_PASSWORD|REDIS_TOKEN|OPENAI_API_KEY)=/.test(e),
      );
      expect(isSecret(c.inputs.envs), c.name).toBe(carriesSecret);
      if (carriesSecret) expect(c.additionalSecretOutputs).toContain("envs");
    }
    const backend = reveal(
      named(resources, T.container, "tenant1-backend").inputs.envs,
    ) as string[];
    expect(backend.filter((e) => /^(DB_PASSWORD|REDIS_TOKEN)=.{32}$/.test(e))).toHaveLength(2);
    // The redis service opted out of tenant env: no secret reaches it.
    expect(isSecret(named(resources, T.container, "tenant1-redis").inputs.envs)).toBe(false);
  });

  it("puts env from app then tenant, and secretEnv from stack config", () => {
    const envs = reveal(named(resources, T.container, "markplus-web").inputs.envs) as string[];
    expect(envs).toContain("FLASK_ENV=production");
    expect(envs).toContain("COMPANY_NAME=MarkPlus");
    expect(envs).toContain(`OPENAI_API_KEY=${OFFLINE_SECRET}`);
  });

  it("keeps every secret value out of stack outputs, command texts and plain inputs", () => {
    const secretValues = [
      OFFLINE_SECRET,
      ...byType(resources, T.container).flatMap((c) =>
        (reveal(c.inputs.envs) as string[])
          .filter((e) => /^(SECRET_KEY|DB_PASSWORD|REDIS_TOKEN|OPENAI_API_KEY)=/.test(e))
          .map((e) => e.slice(e.indexOf("=") + 1)),
      ),
    ];
    expect(secretValues.length).toBeGreaterThan(4);
    const outputs = JSON.stringify(run.outputs);
    const commands = byType(resources, T.command).map((c) =>
      JSON.stringify([c.inputs.create, c.inputs.delete, c.inputs.stdin, c.inputs.triggers]),
    );
    for (const value of secretValues) {
      expect(outputs).not.toContain(value);
      for (const text of commands) expect(text).not.toContain(value);
    }
    // Where a secret travels, it is marked: connection (private key) and provider token.
    for (const c of byType(resources, T.command)) expect(isSecret(c.inputs.connection)).toBe(true);
    expect(isSecret(byType(resources, T.cloudflareProvider)[0]!.inputs.apiToken)).toBe(true);
  });

  it("creates DNS records only for domains in a managed zone", () => {
    const records = byType(resources, T.dns);
    expect(records.map((r) => r.inputs.name).sort()).toEqual([
      "company2.example.com",
      "mcoder.example.com",
      "tenant1.example.com",
    ]);
    for (const r of records) {
      expect(r.inputs).toMatchObject({
        zoneId: "0123456789abcdef0123456789abcdef",
        type: "A",
        content: "203.0.113.10",
        ttl: 1,
        proxied: false,
      });
      expect(r.deleteBeforeReplace).toBe(true);
    }
    const outputs = run.outputs.tenants as Record<
      string,
      { dns: Array<{ domain: string; managed: boolean; action?: string }> }
    >;
    const external = outputs.markplus!.dns.find((d) => d.domain === "mcoder.markplus.co.id")!;
    expect(external.managed).toBe(false);
    expect(external.action).toContain("A mcoder.markplus.co.id → 203.0.113.10");
  });

  it("installs each tenant's nginx site over SSH with its rendered config on stdin", () => {
    for (const plan of plans) {
      const site = named(resources, T.command, `${plan.name}-site`);
      expect(site.inputs.stdin).toBe(renderSite(withUpstreams(plan.site, upstreamsOf(plan))));
      expect(site.inputs.triggers).toEqual([`${plan.name}@vps1`]);
      expect(site.inputs.addPreviousOutputInEnv).toBe(false);
      // Through sudo, the entry point's named operation and its arguments, nothing else.
      const nginx = "/etc/nginx/tenantry /etc/nginx/conf.d/tenantry.conf ''";
      expect(site.inputs.create).toContain('exec sudo -n "$@"');
      expect(site.inputs.create).toMatch(
        new RegExp(` /usr/local/sbin/tenantry-root site-install(-now)? ${nginx} ${plan.name}$`),
      );
      expect(site.inputs.delete).toMatch(
        new RegExp(
          ` /usr/local/sbin/tenantry-root site-remove ${nginx} ${plan.name} ${plan.name}@vps1$`,
        ),
      );
      const connection = reveal(site.inputs.connection) as Record<string, unknown>;
      expect(connection).toMatchObject({
        host: "203.0.113.10",
        port: 22,
        user: "deploy",
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i",
        privateKey: OFFLINE_SECRET,
      });
      expect(connection.dialErrorLimit).toBeGreaterThanOrEqual(10);
      const bootstrap = named(resources, T.command, "vps1-bootstrap");
      expect(site.dependencies).toContain(bootstrap.urn);
    }
    expect(renderSite(plans[0]!.site)).toContain("proxy_pass http://127.0.0.1:8000;");
  });

  it("reloads nginx once per host, after every site of that host and nothing else", () => {
    const reloads = byType(resources, T.command).filter((c) => c.name.endsWith("-nginx-reload"));
    expect(reloads.map((r) => r.name)).toEqual(["vps1-nginx-reload"]);
    // Only the bootstrap and the sites: a tenant whose container fails must not keep the other
    // tenants' site changes from going live (the engine skips dependents of a failed resource).
    expect([...reloads[0]!.dependencies].sort()).toEqual(
      [
        named(resources, T.command, "vps1-bootstrap").urn,
        ...plans.map((p) => named(resources, T.command, `${p.name}-site`).urn),
      ].sort(),
    );
    for (const plan of plans) {
      // A site waits for its own rolling containers (their new generation, healthy) only.
      const site = named(resources, T.command, `${plan.name}-site`);
      expect([...site.dependencies].sort()).toEqual(
        [
          named(resources, T.command, "vps1-bootstrap").urn,
          ...plan.services
            .filter((s) => s.rollout === "rolling")
            .map((s) => named(resources, T.container, s.containerName).urn),
        ].sort(),
      );
    }
    expect(reloads[0]!.inputs.triggers).toHaveLength(1);
  });

  it("shares one docker provider and one image pull per host, pinned to the host key", () => {
    const [provider, ...others] = byType(resources, T.dockerProvider);
    expect(others).toEqual([]);
    expect(provider!.inputs.host).toBe("ssh://deploy@203.0.113.10:22");
    const opts = provider!.inputs.sshOpts as string[];
    expect(opts).toContain("StrictHostKeyChecking=yes");
    expect(opts).toContain(
      "KnownHostsCommand=/bin/echo tenantry-vps1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i",
    );
    const images = byType(resources, T.image).map((i) => i.inputs.name);
    expect(images.sort()).toEqual(
      [...new Set(plans.flatMap((p) => p.services.map((s) => s.image)))].sort(),
    );
  });

  it("exports per tenant url, domain, host, ports and dns", () => {
    const tenants = run.outputs.tenants as Record<string, unknown>;
    expect(tenants.company2).toEqual({
      url: "https://company2.example.com",
      domain: "company2.example.com",
      host: "vps1",
      ports: { web: 10020 },
      dns: [
        {
          domain: "company2.example.com",
          managed: true,
          record: "A company2.example.com → 203.0.113.10",
          zone: "example.com",
        },
      ],
    });
  });
});

/** Each rolling routed service's generation address, from its container's recorded name. */
function upstreamsOf(plan: TenantPlan): Record<string, string> {
  return Object.fromEntries(
    plan.services
      .filter((s) => s.rollout === "rolling" && s.route !== undefined)
      .map((s) => {
        const name = named(resources, T.container, s.containerName).inputs.name as string;
        return [s.name, laneAddress(name.slice(-6))] as const;
      }),
  );
}
