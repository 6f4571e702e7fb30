// `tenantry render`: the nginx site file a tenant gets, exactly as the program installs it.
import type { Command } from "commander";
import { planTenant } from "../../plan/tenant";
import { renderSite, renderTlsSite } from "../../remote/nginx";
import { loadManifestFile, tenantNamed } from "../common";

export function registerRender(program: Command): void {
  program
    .command("render")
    .description("Print the nginx site config that would be installed for a tenant")
    .argument("<name>", "tenant name")
    .argument("[file]", "manifest", "tenants.yaml")
    .option("--https", "print its HTTPS server instead (what its TLS step installs)")
    .action((name: string, file: string, options: { https?: boolean }) => {
      const loaded = loadManifestFile(file);
      const site = planTenant(loaded.manifest, tenantNamed(loaded, name)).site;
      if (options.https === true && site.tls === undefined) {
        throw new Error(
          `tenant ${name} is served over HTTP only (tls: none): it has no HTTPS server`,
        );
      }
      process.stdout.write(options.https === true ? renderTlsSite(site) : renderSite(site));
    });
}
