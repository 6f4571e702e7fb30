// Composition root: load tenants.yaml → providers and shared resources per host → one
// TenantInstance per tenant → stack outputs. Everything is validated before any resource exists.
import * as path from "node:path";
import * as cloudflare from "@pulumi/cloudflare";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { TenantHost } from "./components/host";
import { loadManifest } from "./manifest/load";
import { ManifestError } from "./manifest/problems";
import { missingStackConfig } from "./manifest/stackConfig";
import { configSecretKey } from "./core/names";
import { registryPasswordKey } from "./core/images";
import { backupTime, offsiteSecretKeys, retainedData, type RetainedData } from "./plan/backup";
import { dnsSummary, type DnsSummary } from "./plan/dns";
import { hostImages } from "./plan/images";
import { planTenants, type TenantPlan } from "./plan/tenant";
import { hostWildcardCertificates } from "./plan/tls";
import { hostSitesDigest } from "./remote/maintenance";
import { withoutPromiseStacks } from "./runtime/promiseStacks";
import { TenantInstance } from "./components/tenantInstance";

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

/** The tenants of each host, in manifest order; every host is listed, even without tenants. */
const plansByHost = new Map(Object.keys(manifest.hosts).map((h) => [h, [] as TenantPlan[]]));
for (const plan of plans) plansByHost.get(plan.host)!.push(plan);

/** A host's wildcard certificates and, when it has any, the DNS-01 token (README, "TLS"). */
function wildcardArgs(hostName: string) {
  const wildcards = hostWildcardCertificates(manifest, hostName);
  if (wildcards.length === 0) return { wildcards };
  return { wildcards, acmeDnsToken: config.requireSecret("acmeDnsToken") };
}

/** Registry passwords (README, "Private registries"): stack key → secret. */
const registryPasswords = Object.fromEntries(
  Object.keys(manifest.registries ?? {}).map((registry) => {
    const key = registryPasswordKey(registry);
    return [key, config.requireSecret(key)] as const;
  }),
);

/** Per tenant with init secrets (e.g. its first admin's password): those secrets. */
const initSecrets: Record<string, pulumi.Output<Record<string, string>>> = {};

withoutPromiseStacks(() => {
  const providers = {
    command: new command.Provider("command"),
    random: new random.Provider("random"),
    cloudflare: plans.some((p) => p.dns.some((d) => d.managed))
      ? new cloudflare.Provider("cloudflare", { apiToken: cloudflareToken })
      : undefined,
  };
  const privateKey = sshPrivateKey === undefined ? undefined : pulumi.secret(sshPrivateKey);

  for (const [hostName, onHost] of plansByHost) {
    const host = new TenantHost(hostName, {
      host: manifest.hosts[hostName]!,
      images: hostImages(manifest, onHost),
      registryPasswords,
      privateKey,
      sshKeyPath,
      commandProvider: providers.command,
      ...wildcardArgs(hostName),
    });
    const instances = onHost.map(
      (plan) =>
        new TenantInstance(plan.name, {
          plan,
          host,
          configSecrets: Object.fromEntries(
            plan.secretEnv.map((key) => [
              key,
              config.requireSecret(configSecretKey(plan.name, key)),
            ]),
          ),
          providers,
          offsiteSecrets: Object.fromEntries(
            offsiteSecretKeys(manifest, hostName).map(({ env, key }) => [
              env,
              config.requireSecret(key),
            ]),
          ),
        }),
    );
    host.addReload(
      instances.flatMap((i) => (i.site === undefined ? [] : [i.site])),
      hostSitesDigest(onHost),
    );
    host.addBackupSchedule(backupTime(manifest, hostName));
    for (const [i, plan] of onHost.entries()) {
      if (plan.lifecycle.initSecrets.length > 0) initSecrets[plan.name] = instances[i]!.initSecrets;
    }
  }
});

/**
 * Per tenant: where it answers and what DNS it needs; a tenant not active also says its state,
 * and a decommissioned one what is retained and the command that purges it. No secret values.
 */
export const tenants: Record<
  string,
  {
    url: string;
    domain: string;
    host: string;
    ports: Record<string, number>;
    dns: DnsSummary[];
    state?: string;
    retained?: RetainedData;
  }
> = Object.fromEntries(
  plans.map((p) => [
    p.name,
    {
      url: p.url,
      domain: p.domain,
      host: p.host,
      ports: { ...p.ports },
      dns: p.dns.map(dnsSummary),
      ...(p.lifecycle.state === "active" ? {} : { state: p.lifecycle.state }),
      ...(p.backup.final ? { retained: retainedData(p.backup) } : {}),
    },
  ]),
);

/** `pulumi stack output --show-secrets tenantSecrets`: e.g. each tenant's first admin password. */
export const tenantSecrets = pulumi.secret(initSecrets);
