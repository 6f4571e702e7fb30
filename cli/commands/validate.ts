// `tenantry validate`: checks a manifest offline (no credentials) and, with --stack, that the
// stack file holds every secret the manifest refers to.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { parseDocument } from "yaml";
import type { LoadedManifest } from "../../manifest/load";
import { ManifestError } from "../../manifest/problems";
import { hostUsage } from "../../manifest/rules";
import { missingStackConfig, stackFileConfig } from "../../manifest/stackConfig";
import { loadManifestFile, plural } from "../common";
import { checkLimits } from "../tlsLimits";

/** The namespace of the program's config keys: `name` in Pulumi.yaml, as Pulumi uses it. */
function projectName(dir: string): string {
  const file = path.join(dir, "Pulumi.yaml");
  if (!existsSync(file)) return "tenantry";
  const name: unknown = parseDocument(readFileSync(file, "utf8")).get("name");
  return typeof name === "string" && name !== "" ? name : "tenantry";
}

/** Checks Pulumi.<stack>.yaml next to the manifest; throws ManifestError for each gap. */
function checkStack(loaded: LoadedManifest, stack: string): string {
  const dir = path.dirname(loaded.file);
  const stackFile = path.join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(stackFile)) {
    throw new Error(
      `no stack file ${stackFile} (create the stack with: pulumi stack init ${stack})`,
    );
  }
  let config;
  try {
    config = stackFileConfig(readFileSync(stackFile, "utf8"), projectName(dir));
  } catch (err) {
    throw new Error(`${stackFile}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const problems = missingStackConfig(loaded, config);
  if (problems.length > 0) throw new ManifestError(problems);
  return `; stack ${stack}: every secret it needs is set`;
}

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description(
      "Check a manifest offline: every problem as FILE:LINE:COL; with --stack also the stack's secrets (exit 1 when anything is wrong)",
    )
    .argument("[file]", "manifest", "tenants.yaml")
    .option("--stack <name>", "also check Pulumi.<name>.yaml next to the manifest")
    .option(
      "--since <file>",
      "count the certificates a change from this manifest (the one applied now) would request against Let's Encrypt's limits; refuse past one",
    )
    .action((file: string, options: { stack?: string; since?: string }) => {
      const loaded = loadManifestFile(file);
      const stackNote = options.stack === undefined ? "" : checkStack(loaded, options.stack);
      const limits = checkLimits(loaded, options.since);
      for (const w of limits.warnings) process.stderr.write(`${w}\n`);
      const usage = hostUsage(loaded.manifest);
      const allocated = usage.reduce((sum, u) => sum + u.allocatedMb, 0);
      const budget = usage.reduce((sum, u) => sum + u.budgetMb, 0);
      const tenants = Object.keys(loaded.manifest.tenants).length;
      process.stdout.write(
        `${file}: valid, ${plural(tenants, "tenant")} on ${plural(usage.length, "host")}, ${allocated}/${budget} MB allocated${stackNote}\n`,
      );
    });
}
