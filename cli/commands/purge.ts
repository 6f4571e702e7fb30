// `tenantry purge TENANT --yes`: deletes a decommissioned tenant's data for good (volumes, backups
// local and offsite, its key on the host). Only for a tenant whose entry says `state:
// decommissioned` (and that an apply has decommissioned: the host refuses while containers exist);
// never a side effect of editing the manifest.
import type { Command } from "commander";
import { retainedData } from "../../plan/backup";
import { RefusedChange } from "../common";
import {
  hostCommandOptions,
  reportingHostFailure,
  runTool,
  tenantFor,
  type HostCommandOptions,
} from "./backup";

export function registerPurge(program: Command): void {
  hostCommandOptions(
    program
      .command("purge")
      .description(
        "Delete a decommissioned tenant's volumes, backups and key on its host, for good (needs --yes)",
      )
      .argument("<tenant>", "tenant name")
      .option("--yes", "really delete"),
  ).action((name: string, options: HostCommandOptions & { yes?: boolean }) =>
    reportingHostFailure(async () => {
      const { loaded, plan } = tenantFor(options, name);
      if (plan.lifecycle.state !== "decommissioned") {
        throw new RefusedChange([
          `tenant ${name} is ${plan.lifecycle.state}: purge only deletes a decommissioned tenant's data; set state: decommissioned in ${loaded.file}, run pulumi up (it takes a final backup), then purge`,
        ]);
      }
      if (options.yes !== true) {
        const kept = retainedData(plan.backup);
        throw new RefusedChange([
          `purge deletes, for good: volumes ${kept.volumes.join(", ") || "(none)"}; backups ${kept.backups.join(", ")}; the tenant's backup key. Run it with --yes: ${kept.purge}`,
        ]);
      }
      process.stdout.write(await runTool(loaded, plan, ["purge", "--yes"], options));
      process.stdout.write(
        `Now remove tenants.${name} from ${loaded.file} and run pulumi up: its secrets leave the stack.\n`,
      );
    }),
  );
}
