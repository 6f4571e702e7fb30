// Pure: the TLS facts both validation and planning need: a tenant's effective mode, the zone a
// wildcard certificate covers, registered domains as Let's Encrypt counts them, the ACME
// directory a manifest names. Structural types: core/ sits below manifest/.
import { getDomain } from "tldts";
import { zoneFor } from "./dns";

export type TlsModeName = "acme" | "wildcard" | "none";

export const LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";
export const LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

/** The most names Let's Encrypt puts in one certificate. */
export const MAX_NAMES_PER_CERTIFICATE = 100;

export interface TlsSettingsView {
  readonly mode: TlsModeName;
  readonly directory?: string | undefined;
  readonly staging: boolean;
}

/** The ACME directory certificates come from: the manifest's, else Let's Encrypt (or staging). */
export function acmeDirectory(tls: TlsSettingsView): string {
  return tls.directory ?? (tls.staging ? LETS_ENCRYPT_STAGING : LETS_ENCRYPT);
}

/** Where a tenant's mode comes from, for messages that point at the key that set it. */
export type ModeSource = "tenant" | "host" | "manifest";

/** A tenant's mode: its own `tls`, else its host's, else the manifest's `tls.mode`. */
export function effectiveMode(
  tenant: { readonly tls?: TlsModeName | undefined },
  host: { readonly tls?: TlsModeName | undefined } | undefined,
  tls: TlsSettingsView,
): { mode: TlsModeName; source: ModeSource } {
  if (tenant.tls !== undefined) return { mode: tenant.tls, source: "tenant" };
  if (host?.tls !== undefined) return { mode: host.tls, source: "host" };
  return { mode: tls.mode, source: "manifest" };
}

/**
 * The managed zone whose `*.<zone>` certificate covers `domain`: a wildcard matches exactly one
 * label (RFC 6125), so `acme.example.com` is covered by `*.example.com`, `a.b.example.com` and
 * `example.com` itself are not.
 */
export function wildcardZoneOf(
  domain: string,
  zones: Readonly<Record<string, string>>,
): string | undefined {
  const zone = zoneFor(domain, zones);
  if (zone === undefined || domain === zone) return undefined;
  const label = domain.slice(0, domain.length - zone.length - 1);
  return label.includes(".") ? undefined : zone;
}

/**
 * The registered domain Let's Encrypt counts a name under: one label below its public suffix,
 * by the Public Suffix List with its private section (`acme.example.co.uk` → `example.co.uk`,
 * `shop.acme.github.io` → `acme.github.io`). A name that is itself a suffix counts as itself.
 */
export function registeredDomain(name: string): string {
  const bare = name.startsWith("*.") ? name.slice(2) : name;
  return getDomain(bare, { allowPrivateDomains: true }) ?? bare;
}
