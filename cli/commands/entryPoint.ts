// `tenantry entry-point`: the root entry point a host's root installs (README, "Preparing a
// host"). Printed, not sent: root reads it and installs it, so the deploy key never can.
import type { Command } from "commander";
import { entryPointText, entryPointVersion } from "../../remote/entry";
import { ENTRY_POINT } from "../../remote/operation";

export function registerEntryPoint(program: Command): void {
  program
    .command("entry-point")
    .description(
      `Print the root entry point for ${ENTRY_POINT}: the one command the deploy user may run through sudo`,
    )
    .option("--version", "print only its version (what the host's bootstrap checks)")
    .action((options: { version?: boolean }) => {
      process.stdout.write(options.version ? `${entryPointVersion()}\n` : entryPointText());
    });
}
