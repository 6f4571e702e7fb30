// The `tenantry` command: offline tools around tenants.yaml. Each subcommand lives in
// cli/commands/ and reuses the pure modules the Pulumi program uses.
import { Command, CommanderError } from "commander";
import { ManifestError, formatProblem } from "../manifest/problems";
import { registerAdd } from "./commands/add";
import { registerBackup } from "./commands/backup";
import { registerCapacity } from "./commands/capacity";
import { registerEntryPoint } from "./commands/entryPoint";
import { registerList } from "./commands/list";
import { registerPlan } from "./commands/plan";
import { registerPurge } from "./commands/purge";
import { registerRender } from "./commands/render";
import { registerRestore } from "./commands/restore";
import { registerSchema } from "./commands/schema";
import { registerStatus } from "./commands/status";
import { registerSummarize } from "./commands/summarize";
import { registerTargets } from "./commands/targets";
import { registerValidate } from "./commands/validate";
import { RefusedChange } from "./common";

const program = new Command("tenantry")
  .description("Run one isolated instance per customer: check and explain tenants.yaml offline.")
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) })
  // Exit codes: 0 fine, 1 the manifest (or the change asked for) is invalid, 2 usage errors.
  .exitOverride();

registerValidate(program);
registerAdd(program);
registerList(program);
registerCapacity(program);
registerRender(program);
registerSchema(program);
registerEntryPoint(program);
registerPlan(program);
registerSummarize(program);
registerTargets(program);
registerStatus(program);
registerBackup(program);
registerRestore(program);
registerPurge(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // commander has printed the message or the help already
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    return;
  }
  if (err instanceof ManifestError || err instanceof RefusedChange) {
    const lines =
      err instanceof ManifestError ? err.problems.map(formatProblem) : [...err.problems];
    process.stderr.write(
      `${lines.join("\n")}\n${lines.length} problem${lines.length === 1 ? "" : "s"}; nothing was changed.\n`,
    );
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`tenantry: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
