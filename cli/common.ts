// What the subcommands share: reading the manifest file with one-line errors, finding a tenant
// by name, and plain-text tables.
import { existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { loadManifest, type LoadedManifest } from "../manifest/load";
import { didYouMean } from "../manifest/problems";
import type { DnsPlan } from "../plan/dns";
import type { TenantTls } from "../plan/tls";

/** A change the CLI refused, file untouched: one line per problem (exit 1). */
export class RefusedChange extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "RefusedChange";
  }
}

/** A missing file or a directory is one line naming it (exit 2), not a manifest problem. */
export function requireManifestFile(file: string): void {
  if (!existsSync(file)) {
    throw new Error(
      `no manifest at ${file} (run in the directory that holds tenants.yaml, or pass FILE)`,
    );
  }
  if (statSync(file).isDirectory()) {
    const inside = path.join(file, "tenants.yaml");
    throw new Error(
      `${file} is a directory, not a manifest; pass the file${existsSync(inside) ? `: ${inside}` : ", e.g. DIR/tenants.yaml"}`,
    );
  }
}

/** Loads and validates FILE (see requireManifestFile for a missing file or a directory). */
export function loadManifestFile(file: string): LoadedManifest {
  requireManifestFile(file);
  return loadManifest(file); // throws ManifestError listing every problem
}

/** The tenant's name, or an error naming the valid ones. */
export function tenantNamed(loaded: LoadedManifest, name: string): string {
  const names = Object.keys(loaded.manifest.tenants);
  if (Object.hasOwn(loaded.manifest.tenants, name)) return name;
  throw new Error(
    `no tenant "${name}" in ${loaded.file}${didYouMean(name, names)}; tenants: ${names.join(", ") || "(none)"}`,
  );
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function dnsKind(d: DnsPlan): "managed" | "external" {
  return d.managed ? "managed" : "external";
}

/** How a tenant is served, in one line: the mode, where it came from, the certificate. */
export function describeTls(tls: TenantTls): string {
  const from =
    tls.source === "tenant"
      ? ""
      : ` (default from ${tls.source === "host" ? "its host" : "tls.mode"})`;
  if (tls.mode === "none") return `none${from}: HTTP only, no certificate`;
  const cert = tls.certificate;
  const what =
    cert === undefined
      ? "no certificate (see tenantry validate)"
      : cert.kind === "wildcard"
        ? `the host's *.${cert.zone} certificate (DNS-01), shared: requests nothing of its own`
        : `own certificate for ${cert.names.join(", ")} (HTTP-01)`;
  return `${tls.mode}${from}: ${what}${tls.hsts ? ", HSTS" : ""}; HTTP redirects to HTTPS`;
}

/** What happens to a domain's DNS record, in one line. */
export function describeDns(d: DnsPlan): string {
  return d.managed
    ? `DNS managed: ${d.type} → ${d.content} in zone ${d.zone}`
    : `DNS external: the customer creates ${d.type} ${d.domain} → ${d.content} at their DNS provider`;
}

/** Left-aligned columns separated by two spaces; the first row is the header. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
