// `tenantry list`: one line per tenant: where it runs, its ports and who manages its DNS.
import type { Command } from "commander";
import { planTenants } from "../../plan/tenant";
import { dnsKind, loadManifestFile, table } from "../common";

export function registerList(program: Command): void {
  program
    .command("list")
    .description(
      "List tenants: app, plan, host, slot, domains, host ports, DNS managed or external, TLS mode",
    )
    .argument("[file]", "manifest", "tenants.yaml")
    .action((file: string) => {
      const plans = planTenants(loadManifestFile(file).manifest);
      const rows = plans.map((p) => [
        p.name,
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
        "APP",
        "PLAN",
        "HOST",
        "SLOT",
        "DOMAINS",
        "HOST PORTS",
        "DNS",
        "TLS",
      ];
      process.stdout.write(`${table([header, ...rows])}\n`);
    });
}
