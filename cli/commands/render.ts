// `tenantry render`: the nginx site file a tenant gets, exactly as the program installs it.
import type { Command } from "commander";
import { planTenant } from "../../plan/tenant";
import { renderSite } from "../../remote/nginx";
import { loadManifestFile, tenantNamed } from "../common";

export function registerRender(program: Command): void {
  program
    .command("render")
    .description("Print the nginx site config that would be installed for a tenant")
    .argument("<name>", "tenant name")
    .argument("[file]", "manifest", "tenants.yaml")
    .action((name: string, file: string) => {
      const loaded = loadManifestFile(file);
      process.stdout.write(renderSite(planTenant(loaded.manifest, tenantNamed(loaded, name)).site));
    });
}
