// Checks that the stack config holds what the manifest refers to (secretEnv values, registry
// passwords, the Cloudflare tokens, offsite backup credentials), with the exact
// `pulumi config set` command that fixes each gap.
import { parseDocument } from "yaml";
import { zoneFor } from "../core/dns";
import { effectiveMode } from "../core/tls";
import { registryPasswordKey } from "../core/images";
import { configSecretKey } from "../core/names";
import { offsiteCredentials } from "../core/offsite";
import type { LoadedManifest } from "./load";
import { sortProblems, type LocatedProblem } from "./problems";

export interface StackConfigView {
  /** Whether `tenantry:<key>` is set (as a secret). */
  hasSecret(key: string): boolean;
  hasCloudflareToken: boolean;
  /**
   * Whether a key, as `pulumi config set` names it (`tenant.acme.KEY`, `cloudflare:apiToken`),
   * is stored in plain text. Only a stack file shows this; the Pulumi runtime cannot tell.
   */
  isPlainText?(key: string): boolean;
}

const CLOUDFLARE_TOKEN = "cloudflare:apiToken";

function plainTextMessage(key: string, value = "<value>"): string {
  return `stack config holds ${key} in plain text (readable in the stack file); re-set it encrypted with: pulumi config set --secret ${key} ${value}`;
}

export function missingStackConfig(
  loaded: LoadedManifest,
  config: StackConfigView,
): LocatedProblem[] {
  const { manifest, file } = loaded;
  const problems: LocatedProblem[] = [];
  for (const [tenant, entry] of Object.entries(manifest.tenants)) {
    entry.secretEnv.forEach((key, i) => {
      const configKey = configSecretKey(tenant, key);
      const plain = config.isPlainText?.(configKey) ?? false;
      if (!plain && config.hasSecret(configKey)) return;
      const path = ["tenants", tenant, "secretEnv", i];
      problems.push({
        file,
        ...loaded.locate(path),
        path,
        message: plain
          ? plainTextMessage(configKey)
          : `stack config has no secret ${configKey}; set it with: pulumi config set --secret ${configKey} <value>`,
      });
    });
  }
  for (const registry of Object.keys(manifest.registries ?? {})) {
    const key = registryPasswordKey(registry);
    const plain = config.isPlainText?.(key) ?? false;
    if (!plain && config.hasSecret(key)) continue;
    const path = ["registries", registry];
    problems.push({
      file,
      ...loaded.locate(path),
      path,
      message: plain
        ? plainTextMessage(key)
        : `stack config has no secret ${key} (the password or access token of ${registry}); set it with: pulumi config set --secret ${key} <password>`,
    });
  }
  const zones = manifest.dns.zones;
  const managed = Object.values(manifest.tenants).some((t) =>
    [t.domain, ...t.aliases].some((d) => zoneFor(d, zones) !== undefined),
  );
  const plainToken = config.isPlainText?.(CLOUDFLARE_TOKEN) ?? false;
  if (managed && (plainToken || !config.hasCloudflareToken)) {
    const path = ["dns", "zones"];
    problems.push({
      file,
      ...loaded.locate(path),
      path,
      message: plainToken
        ? plainTextMessage(CLOUDFLARE_TOKEN)
        : `tenants have domains in these zones but the stack has no Cloudflare token; set it with: pulumi config set --secret ${CLOUDFLARE_TOKEN} <token> (needs Zone.DNS edit)`,
    });
  }
  problems.push(...missingDnsChallengeToken(loaded, config));
  problems.push(...missingOffsiteCredentials(loaded, config));
  return sortProblems(problems);
}

/**
 * A host with an offsite repository and tenants needs its credentials (backup.<HOST>.<KEY>), as
 * the program reads them for each tenant's backup tool: named at the host's offsite entry.
 */
function missingOffsiteCredentials(
  loaded: LoadedManifest,
  config: StackConfigView,
): LocatedProblem[] {
  const { manifest, file } = loaded;
  const problems: LocatedProblem[] = [];
  for (const [host, entry] of Object.entries(manifest.hosts)) {
    const offsite = entry.backup?.offsite;
    if (offsite === undefined) continue;
    if (!Object.values(manifest.tenants).some((t) => t.host === host)) continue;
    for (const { key, what, value } of offsiteCredentials(host, offsite.url)) {
      const plain = config.isPlainText?.(key) ?? false;
      if (!plain && config.hasSecret(key)) continue;
      const path = ["hosts", host, "backup", "offsite"];
      problems.push({
        file,
        ...loaded.locate(path),
        path,
        message: plain
          ? plainTextMessage(key, value)
          : `stack config has no secret ${key} (${what} for host ${host}'s offsite repository ${offsite.url}); set it with: pulumi config set --secret ${key} ${value}`,
      });
    }
  }
  return problems;
}

/** Config key of the Cloudflare token DNS-01 uses (README, "TLS"), in the program's namespace. */
export const ACME_DNS_TOKEN = "acmeDnsToken";

/** A wildcard tenant needs the DNS-01 token: named at the key that made the tenant wildcard. */
function missingDnsChallengeToken(
  loaded: LoadedManifest,
  config: StackConfigView,
): LocatedProblem[] {
  const { manifest, file } = loaded;
  const first = Object.entries(manifest.tenants).find(
    ([, t]) => effectiveMode(t, manifest.hosts[t.host], manifest.tls).mode === "wildcard",
  );
  if (first === undefined) return [];
  const plain = config.isPlainText?.(ACME_DNS_TOKEN) ?? false;
  if (!plain && config.hasSecret(ACME_DNS_TOKEN)) return [];
  const [name, tenant] = first;
  const { source } = effectiveMode(tenant, manifest.hosts[tenant.host], manifest.tls);
  const path =
    source === "tenant"
      ? ["tenants", name, "tls"]
      : source === "host"
        ? ["hosts", tenant.host, "tls"]
        : ["tls", "mode"];
  return [
    {
      file,
      ...loaded.locate(path),
      path,
      message: plain
        ? plainTextMessage(ACME_DNS_TOKEN)
        : `tenant "${name}" is served with the host's wildcard certificate, which certbot gets and renews through DNS-01, but the stack has no ${ACME_DNS_TOKEN}; set it with: pulumi config set --secret ${ACME_DNS_TOKEN} <Cloudflare token with Zone.DNS edit on the wildcard zones>`,
    },
  ];
}

/**
 * The view of a stack file (`Pulumi.<stack>.yaml`) as the Pulumi CLI writes it: keys are
 * `<namespace>:<key>`, secrets are `{ secure: v1:... }`. `project` is the namespace of the
 * program's own keys (the `name` in Pulumi.yaml).
 */
export function stackFileConfig(text: string, project: string): StackConfigView {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new Error(`not a valid stack file: ${doc.errors[0]!.message.split("\n")[0]}`);
  }
  const data: unknown = doc.toJS();
  const config: unknown = isRecord(data) ? data.config : undefined;
  const values = isRecord(config) ? config : {};
  const fullKey = (key: string) => (key.includes(":") ? key : `${project}:${key}`);
  const isSecure = (value: unknown) => isRecord(value) && typeof value.secure === "string";
  return {
    hasSecret: (key) => isSecure(values[fullKey(key)]),
    hasCloudflareToken: isSecure(values[CLOUDFLARE_TOKEN]),
    isPlainText: (key) => {
      const value = values[fullKey(key)];
      return value !== undefined && value !== null && !isSecure(value);
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
