// Checks that the stack config holds what the manifest refers to (secretEnv values, the
// Cloudflare token), with the exact `pulumi config set` command that fixes each gap.
import { configSecretKey, zoneFor } from "../plan";
import type { LoadedManifest } from "./load";
import type { LocatedProblem } from "./problems";

export interface StackConfigView {
  /** Whether `tenantry:<key>` is set (as a secret). */
  hasSecret(key: string): boolean;
  hasCloudflareToken: boolean;
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
      if (config.hasSecret(configKey)) return;
      const path = ["tenants", tenant, "secretEnv", i];
      problems.push({
        file,
        ...loaded.locate(path),
        path,
        message: `stack config has no secret ${configKey}; set it with: pulumi config set --secret ${configKey} <value>`,
      });
    });
  }
  const zones = manifest.dns.zones;
  const managed = Object.values(manifest.tenants).some((t) =>
    [t.domain, ...t.aliases].some((d) => zoneFor(d, zones) !== undefined),
  );
  if (managed && !config.hasCloudflareToken) {
    const path = ["dns", "zones"];
    problems.push({
      file,
      ...loaded.locate(path),
      path,
      message:
        "tenants have domains in these zones but the stack has no Cloudflare token; set it with: pulumi config set --secret cloudflare:apiToken <token> (needs Zone.DNS edit)",
    });
  }
  return problems;
}
