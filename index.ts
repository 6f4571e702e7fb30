// Composition root: load tenants.yaml → providers and shared resources per host → one
// TenantInstance per tenant → stack outputs. Everything is validated before any resource exists.
import * as path from "node:path";
import * as cloudflare from "@pulumi/cloudflare";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { sitesDigest, TenantHost } from "./components/host";
import { loadManifest } from "./components/manifest/load";
import { ManifestError } from "./components/manifest/problems";
import { missingStackConfig } from "./components/manifest/stackConfig";
import { configSecretKey, planTenants } from "./components/plan";
import { dnsSummary, TenantInstance, type DnsSummary } from "./components/tenantInstance";

const config = new pulumi.Config("tenantry");
const tenantsFile = config.get("tenantsFile") ?? "tenants.yaml";
const loaded = loadManifest(path.resolve(tenantsFile));
const manifest = loaded.manifest;
const plans = planTenants(manifest);

const cloudflareToken = new pulumi.Config("cloudflare").getSecret("apiToken");
const missing = missingStackConfig(loaded, {
  hasSecret: (key) => config.getSecret(key) !== undefined,
  hasCloudflareToken: cloudflareToken !== undefined,
});
if (missing.length > 0) throw new ManifestError(missing);

const sshPrivateKey = config.getSecret("sshPrivateKey");
const sshKeyPath = config.get("sshKeyPath");

const providers = {
  command: new command.Provider("command"),
  random: new random.Provider("random"),
  cloudflare: plans.some((p) => p.dns.some((d) => d.managed))
    ? new cloudflare.Provider("cloudflare", { apiToken: cloudflareToken })
    : undefined,
};

const hosts = new Map<string, TenantHost>();
for (const [hostName, host] of Object.entries(manifest.hosts)) {
  const onHost = plans.filter((p) => p.host === hostName);
  hosts.set(
    hostName,
    new TenantHost(hostName, {
      host,
      images: onHost.flatMap((p) => p.services.map((s) => s.image)),
      privateKey: sshPrivateKey === undefined ? undefined : pulumi.secret(sshPrivateKey),
      sshKeyPath,
      commandProvider: providers.command,
    }),
  );
}

const instances = plans.map(
  (plan) =>
    new TenantInstance(plan.name, {
      plan,
      host: hosts.get(plan.host)!,
      configSecrets: Object.fromEntries(
        plan.secretEnv.map((key) => [key, config.requireSecret(configSecretKey(plan.name, key))]),
      ),
      providers,
    }),
);

for (const [hostName, host] of hosts) {
  const onHost = plans.filter((p) => p.host === hostName);
  host.addReload(
    instances.filter((i, n) => plans[n]!.host === hostName),
    sitesDigest(onHost.map((p) => ({ tenant: p.name, config: p.site.config }))),
  );
}

/** Per tenant: where it answers and what DNS it needs. No secret values. */
export const tenants: Record<
  string,
  { url: string; domain: string; host: string; ports: Record<string, number>; dns: DnsSummary[] }
> = Object.fromEntries(
  plans.map((p) => [
    p.name,
    {
      url: p.url,
      domain: p.domain,
      host: p.host,
      ports: { ...p.ports },
      dns: p.dns.map(dnsSummary),
    },
  ]),
);
