// `tenantry render`: the nginx site file a tenant gets, exactly as the program installs it.
import type { Command } from "commander";
import { planTenant } from "../../components/plan";
import { loadManifestFile, tenantNamed } from "../common";

export function registerRender(program: Command): void {
  program
    .command("render")
    .description("Print the nginx site config that would be installed for a tenant")
    .argument("<name>", "tenant name")
    .argument("[file]", "manifest", "tenants.yaml")
    .action((name: string, file: string) => {
      const loaded = loadManifestFile(file);
      const site = planTenant(loaded.manifest, tenantNamed(loaded, name)).site;
      process.stdout.write(site.config.endsWith("\n") ? site.config : `${site.config}\n`);
    });
}
