// `tenantry capacity`: memory per host and how many more tenants of each plan fit there.
import type { Command } from "commander";
import { hostRoom } from "../../manifest/placement";
import { loadManifestFile, table } from "../common";

export function registerCapacity(program: Command): void {
  program
    .command("capacity")
    .description(
      "Per host: memory budget, allocated, free, and how many more tenants of each plan fit",
    )
    .argument("[file]", "manifest", "tenants.yaml")
    .action((file: string) => {
      const m = loadManifestFile(file).manifest;
      const rows = hostRoom(m).map((r) => [
        r.host,
        `${r.budgetMb} MB`,
        `${r.allocatedMb} MB`,
        `${r.freeMb} MB`,
        String(r.tenants.length),
        Object.entries(r.fits)
          .map(([plan, n]) => `${n} ${plan}`)
          .join(", "),
      ]);
      const header = ["HOST", "BUDGET", "ALLOCATED", "FREE", "TENANTS", "MORE THAT FIT"];
      process.stdout.write(
        `${table([header, ...rows])}\nBudget is memoryMb minus reserveMb; a plan's memory counts in full.\n`,
      );
    });
}
