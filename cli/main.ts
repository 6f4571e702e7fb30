// The `tenantry` command: offline tools around tenants.yaml. Each subcommand lives in
// cli/commands/ and reuses the pure modules the Pulumi program uses.
import { Command } from "commander";
import { ManifestError, formatProblem } from "../components/manifest/problems";
import { registerPlan } from "./commands/plan";

const program = new Command("tenantry")
  .description("Run one isolated instance per customer: check and explain tenants.yaml offline.")
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

registerPlan(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ManifestError) {
    process.stderr.write(
      `${err.problems.map(formatProblem).join("\n")}\n${err.problems.length} problem${err.problems.length === 1 ? "" : "s"}; nothing was changed.\n`,
    );
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`tenantry: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
