// `tenantry restore TENANT [SNAPSHOT]`: puts a snapshot back into the tenant's volumes on its
// host, its containers stopped and started again; refuses without --yes when the volumes hold
// anything (a restore replaces it). `--list` shows the snapshots to choose from.
import type { Command } from "commander";
import { RefusedChange } from "../common";
import {
  hostCommandOptions,
  reportingHostFailure,
  runTool,
  tenantFor,
  type HostCommandOptions,
} from "./backup";

/** A snapshot as restic names it (a hex id or its prefix), or latest. */
const SNAPSHOT = /^(?:latest|[0-9a-f]{8,64})$/;

export function registerRestore(program: Command): void {
  hostCommandOptions(
    program
      .command("restore")
      .description(
        "Restore a tenant's volumes from a snapshot (default: the latest), containers stopped and started again; refuses without --yes when the volumes are not empty",
      )
      .argument("<tenant>", "tenant name")
      .argument("[snapshot]", "snapshot id (see --list)", "latest")
      .option("--yes", "replace what the volumes hold")
      .option("--list", "list the tenant's snapshots instead"),
  ).action(
    (
      name: string,
      snapshot: string,
      options: HostCommandOptions & { yes?: boolean; list?: boolean },
    ) =>
      reportingHostFailure(async () => {
        const { loaded, plan } = tenantFor(options, name);
        if (!SNAPSHOT.test(snapshot)) {
          throw new RefusedChange([
            `snapshot "${snapshot}" is not a snapshot id: give "latest" or the id \`tenantry restore ${name} --list\` shows (8 hex digits or more)`,
          ]);
        }
        const args =
          options.list === true
            ? ["snapshots"]
            : ["restore", snapshot, ...(options.yes === true ? ["--yes"] : [])];
        process.stdout.write(await runTool(loaded, plan, args, options));
      }),
  );
}
