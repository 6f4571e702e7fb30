// `tenantry list`: one line per tenant: its state, where it runs, its ports and who manages its
// DNS; below the table, what each decommissioned tenant keeps and the command that purges it.
import type { Command } from "commander";
import { retainedData } from "../../plan/backup";
import { planTenants, type TenantPlan } from "../../plan/tenant";
import { dnsKind, loadManifestFile, table } from "../common";

/** The STATE cell: a decommissioned tenant's data is still on its host until purged. */
export function stateCell(plan: TenantPlan): string {
  const state = plan.lifecycle.state;
  return state === "decommissioned" ? "decommissioned (data retained)" : state;
}

/** One line per decommissioned tenant: its volumes (Docker names), its backups, its purge. */
export function retainedLines(plans: readonly TenantPlan[]): string[] {
  return plans
    .filter((p) => p.lifecycle.state === "decommissioned")
    .map((p) => {
      const kept = retainedData(p.backup);
      const volumes = kept.volumes.length === 0 ? "" : `volumes ${kept.volumes.join(", ")} and `;
      return `${p.name}: keeps ${volumes}its backups (${kept.backups.join(", ")}); purge with: ${kept.purge}`;
    });
}

/** The whole output: the table, then the retained-data lines after a blank line, if any. */
export function renderList(plans: readonly TenantPlan[]): string {
  const rows = plans.map((p) => [
    p.name,
    stateCell(p),
    p.app,
    p.plan,
    p.host,
    String(p.slot),
    p.domains.join(", "),
    Object.entries(p.ports)
      .map(([svc, port]) => `${svc}:${port}`)
      .join(", "),
    p.dns.map(dnsKind).join(", "),
    p.tls.mode === "none" ? "none (HTTP only)" : p.tls.mode,
  ]);
  const header = [
    "TENANT",
    "STATE",
    "APP",
    "PLAN",
    "HOST",
    "SLOT",
    "DOMAINS",
    "HOST PORTS",
    "DNS",
    "TLS",
  ];
  const retained = retainedLines(plans);
  return [table([header, ...rows]), ...(retained.length === 0 ? [] : ["", ...retained]), ""].join(
    "\n",
  );
}

export function registerList(program: Command): void {
  program
    .command("list")
    .description(
      "List tenants: state, app, plan, host, slot, domains, host ports, DNS managed or external, TLS mode; what a decommissioned tenant keeps and its purge command",
    )
    .argument("[file]", "manifest", "tenants.yaml")
    .action((file: string) => {
      process.stdout.write(renderList(planTenants(loadManifestFile(file).manifest)));
    });
}
