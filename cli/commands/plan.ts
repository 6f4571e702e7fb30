// `tenantry plan`: evaluates the Pulumi program offline (mocks, no credentials) and prints,
// per host and per tenant, the resources it would create, the ports and the domains.
import * as path from "node:path";
import type { Command } from "commander";
import { hostUsage } from "../../manifest/rules";
import { planTenants, type TenantPlan } from "../../plan/tenant";
import { describeTls, loadManifestFile } from "../common";
import { checkLimits } from "../tlsLimits";
import { runOffline, type RecordedResource } from "../offline";

/** `docker:index/container:Container` → `docker.Container`, providers → `docker.Provider`. */
export function shortType(type: string): string {
  const [pkg = "", mod = "", name = ""] = type.split(":");
  if (pkg === "pulumi" && mod === "providers") return `${name}.Provider`;
  if (pkg === "tenantry") return name;
  return mod.startsWith("index") ? `${pkg}.${name}` : `${pkg}.${mod}.${name}`;
}

const TYPE_ORDER = [
  "tenantry:index:Host",
  "tenantry:index:TenantInstance",
  "pulumi:providers:docker",
  "command:remote:Command",
  "docker:index/remoteImage:RemoteImage",
  "docker:index/network:Network",
  "docker:index/volume:Volume",
  "random:index/randomPassword:RandomPassword",
  "docker:index/container:Container",
  "cloudflare:index/dnsRecord:DnsRecord",
];

/** Stable listing order: by kind of resource, then by name. */
function byKind(a: RecordedResource, b: RecordedResource): number {
  const rank = (t: string) => (TYPE_ORDER.includes(t) ? TYPE_ORDER.indexOf(t) : TYPE_ORDER.length);
  return rank(a.type) - rank(b.type) || a.name.localeCompare(b.name);
}

/** One listed resource: its short type, then its name. */
function resourceLine(r: RecordedResource): string {
  return `    ${shortType(r.type).padEnd(24)} ${r.name}`;
}

/** Resources whose parent chain leads to `urn` (the component itself included), sorted by kind. */
export function subtree(resources: readonly RecordedResource[], urn: string): RecordedResource[] {
  const inTree = new Set([urn]);
  const out: RecordedResource[] = [];
  for (const r of resources) {
    if (r.urn === urn || inTree.has(r.parent)) {
      inTree.add(r.urn);
      out.push(r);
    }
  }
  return out.sort(byKind);
}

function describeTenant(
  plan: TenantPlan,
  resources: readonly RecordedResource[],
  planLimits: string,
): string[] {
  const lines = [
    `tenant ${plan.name}  app ${plan.app}  plan ${plan.plan} (${planLimits})  host ${plan.host}  slot ${plan.slot}`,
    `  url        ${plan.url}`,
    `  tls        ${describeTls(plan.tls)}`,
  ];
  const ports = Object.entries(plan.ports).map(([svc, port]) => `${svc} → 127.0.0.1:${port}`);
  lines.push(`  ports      ${ports.join(", ") || "(none published)"}`);
  plan.dns.forEach((d, i) => {
    const what = d.managed
      ? `managed: ${d.type} → ${d.content} in zone ${d.zone}`
      : `external: the customer creates ${d.type} → ${d.content}`;
    lines.push(`  ${i === 0 ? "domains   " : "          "} ${d.domain}  ${what}`);
  });
  const generated = plan.secrets.map((s) => `${s} (generated)`);
  const fromConfig = plan.secretEnv.map((k) => `${k} (stack config tenant.${plan.name}.${k})`);
  if (generated.length + fromConfig.length > 0) {
    lines.push(`  secrets    ${[...generated, ...fromConfig].join(", ")}`);
  }
  lines.push(`  resources  ${resources.length}`);
  lines.push(...resources.map(resourceLine));
  return lines;
}

export function registerPlan(program: Command): void {
  program
    .command("plan")
    .description(
      "Evaluate the Pulumi program offline on a manifest and print what each tenant would get (no credentials, nothing deployed)",
    )
    .argument("[file]", "manifest", "tenants.yaml")
    .option(
      "--since <file>",
      "count the certificates a change from this manifest (the one applied now) would request; refuse past a Let's Encrypt limit",
    )
    .action(async (file: string, options: { since?: string }) => {
      const loaded = loadManifestFile(file); // fails with every problem listed
      const manifest = loaded.manifest;
      const limits = checkLimits(loaded, options.since);
      for (const w of limits.warnings) process.stderr.write(`${w}\n`);
      const { resources } = await runOffline({ tenantsFile: path.resolve(file), manifest });
      const plans = planTenants(manifest);
      // Providers not under a host: command, random and (with managed zones) cloudflare.
      const stackWide = resources.filter(
        (r) => r.type.startsWith("pulumi:providers:") && !r.parent.includes("::tenantry:index:"),
      );
      const out: string[] = [
        `tenantry plan: ${file}, evaluated offline under mocks. Nothing was deployed; secrets are placeholders.`,
        "",
        `stack      ${stackWide.length} providers shared by every host`,
        ...stackWide.sort(byKind).map(resourceLine),
        "",
      ];
      for (const usage of hostUsage(manifest)) {
        const host = manifest.hosts[usage.host]!;
        const hostResources = resources.filter(
          (r) => r.urn.endsWith(`::${usage.host}`) && r.type === "tenantry:index:Host",
        );
        const shared = hostResources.length > 0 ? subtree(resources, hostResources[0]!.urn) : [];
        out.push(
          `host ${usage.host}  ${host.user}@${host.address}:${host.port}  memory ${usage.allocatedMb}/${usage.budgetMb} MB allocated (${host.reserveMb} MB reserved)`,
          `  shared     ${shared.length} resources`,
          ...shared.map(resourceLine),
          "",
        );
      }
      for (const plan of plans) {
        const component = resources.find(
          (r) => r.type === "tenantry:index:TenantInstance" && r.urn.endsWith(`::${plan.name}`),
        );
        const limits = manifest.plans[plan.plan]!;
        out.push(
          ...describeTenant(
            plan,
            component ? subtree(resources, component.urn) : [],
            `${limits.memoryMb} MB, ${limits.cpus} CPU`,
          ),
          "",
        );
      }
      const hostCount = Object.keys(manifest.hosts).length;
      out.push(`tls        ${limits.summary}`, "");
      out.push(
        `${resources.length} resources for ${plans.length} tenant${plans.length === 1 ? "" : "s"} on ${hostCount} host${hostCount === 1 ? "" : "s"}.`,
        "Next: pulumi preview (see README, 'Run it for real').",
      );
      process.stdout.write(out.join("\n") + "\n");
    });
}
