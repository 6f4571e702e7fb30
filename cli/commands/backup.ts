// `tenantry backup TENANT`: one backup now, on the tenant's host, by the tool its backup step
// installed there (remote/backup.ts), exactly as the nightly timer runs it. The tool's own words
// are printed; a failure is recorded on the host, so `tenantry status` shows it too.
import type { Command } from "commander";
import type { LoadedManifest } from "../../manifest/load";
import { planTenant, type TenantPlan } from "../../plan/tenant";
import { toolCommand } from "../../remote/backup";
import { loadManifestFile, tenantNamed } from "../common";
import { failureReason, hostTarget, identityFor, runOverSsh } from "../remoteRun";

/** The host refused or failed: one line, exit 1 (no stack trace). */
export class HostFailure extends Error {
  override readonly name = "HostFailure";
}

/** Runs a host command's action; a HostFailure is printed as one line and exits 1. */
export async function reportingHostFailure(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    if (!(err instanceof HostFailure)) throw err;
    process.stderr.write(`tenantry: ${err.message}\n`);
    process.exitCode = 1;
  }
}

/** The options the host commands share. */
export interface HostCommandOptions {
  readonly file: string;
  readonly identity?: string;
  readonly stack?: string;
}

export function hostCommandOptions(command: Command): Command {
  return command
    .option("-f, --file <manifest>", "manifest", "tenants.yaml")
    .option(
      "-i, --identity <file>",
      "SSH private key (default: the stack's sshKeyPath, your agent)",
    )
    .option("--stack <name>", "read sshKeyPath from Pulumi.<name>.yaml next to the manifest");
}

/** The manifest and the named tenant's plan. */
export function tenantFor(
  options: HostCommandOptions,
  name: string,
): { loaded: LoadedManifest; plan: TenantPlan } {
  const loaded = loadManifestFile(options.file);
  return { loaded, plan: planTenant(loaded.manifest, tenantNamed(loaded, name)) };
}

/**
 * Runs the tenant's tool on its host as root (the README's sudoers line), prints what it says,
 * and throws its reason (one line) when it fails.
 */
export async function runTool(
  loaded: LoadedManifest,
  plan: TenantPlan,
  args: readonly string[],
  options: HostCommandOptions,
): Promise<string> {
  const host = loaded.manifest.hosts[plan.host]!;
  const identity = identityFor(options, loaded.file);
  const result = await runOverSsh(
    plan.host,
    host,
    toolCommand(host.user, plan.lifecycle.identity, args),
    { ...(identity === undefined ? {} : { identity }), timeoutMs: 6 * 3600_000 },
  );
  if (result.code !== 0) {
    throw new HostFailure(`${hostTarget(plan.host, host)}: ${failureReason(result)}`);
  }
  return result.stdout;
}

export function registerBackup(program: Command): void {
  hostCommandOptions(
    program
      .command("backup")
      .description("Back up a tenant now (its volumes, consistent dumps, retention), on its host")
      .argument("<tenant>", "tenant name"),
  ).action((name: string, options: HostCommandOptions) =>
    reportingHostFailure(async () => {
      const { loaded, plan } = tenantFor(options, name);
      process.stdout.write(await runTool(loaded, plan, ["backup"], options));
    }),
  );
}
