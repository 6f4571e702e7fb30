// Pure: how each tenant is served over TLS, which certificates a host holds, and what a change
// would ask the ACME server for, counted against Let's Encrypt's limits (README, "TLS").
import { createHash } from "node:crypto";
import { zoneFor } from "../core/dns";
import {
  acmeDirectory,
  effectiveMode,
  LETS_ENCRYPT,
  LETS_ENCRYPT_STAGING,
  registeredDomain,
  wildcardZoneOf,
  type ModeSource,
  type TlsModeName,
} from "../core/tls";
import type { PathSegment } from "../manifest/problems";
import type { Manifest } from "../manifest/schema";
import type { SiteTls } from "./site";

/** certbot's own tree on a host (Debian's certbot, as its timer renews it). */
export const LETSENCRYPT_DIR = "/etc/letsencrypt";

/** The ACME account a host's certbot uses: one per host and directory. */
export interface AcmeAccount {
  readonly directory: string;
  readonly email?: string | undefined;
}

/** One certificate lineage on a host, as certbot names and stores it. */
export interface CertificatePlan {
  /** `acme`: one tenant's names through HTTP-01; `wildcard`: `*.<zone>` through DNS-01. */
  readonly kind: "acme" | "wildcard";
  /** certbot's `--cert-name`: the lineage under /etc/letsencrypt/{live,renewal}. */
  readonly name: string;
  readonly host: string;
  /** The names the certificate carries, in request order. */
  readonly names: readonly string[];
  /** For wildcard: the managed zone. */
  readonly zone?: string | undefined;
  readonly account: AcmeAccount;
  readonly certificate: string;
  readonly key: string;
  /** Tenants served with it. */
  readonly tenants: readonly string[];
}

export interface TenantTls {
  readonly mode: TlsModeName;
  /** Which key set the mode: the tenant's own `tls`, its host's, or the manifest's `tls.mode`. */
  readonly source: ModeSource;
  readonly hsts: boolean;
  /** The certificate its HTTPS server uses (none for `none`). */
  readonly certificate?: CertificatePlan | undefined;
}

/** Where certbot writes HTTP-01 challenges; every acme site serves it on :80. */
export const acmeWebroot = (nginxDir: string): string => `${nginxDir}/acme-challenge`;
/** The snippets a tenant's TLS step writes once its certificate is in place. */
export const tlsSnippetsDir = (nginxDir: string, tenant: string): string =>
  `${nginxDir}/tls/${tenant}`;

/** The TLS part of a tenant's site (remote/nginx.ts renders it), or undefined for `none`. */
export function siteTls(
  tls: TenantTls,
  tenant: string,
  nginx: { readonly dir: string; readonly tlsListen: readonly string[] },
): SiteTls | undefined {
  if (tls.mode === "none" || tls.certificate === undefined) return undefined;
  return {
    listen: nginx.tlsListen,
    certificate: tls.certificate.certificate,
    key: tls.certificate.key,
    hsts: tls.hsts,
    webroot: tls.mode === "acme" ? acmeWebroot(nginx.dir) : undefined,
    snippets: tlsSnippetsDir(nginx.dir, tenant),
  };
}

/**
 * What a lineage name carries of its ACME server: nothing for Let's Encrypt, `-staging` for its
 * staging directory, a short digest of any other URL. A new server is then a new lineage (and a
 * new TLS step), so switching from staging to production gets a trusted certificate at once:
 * certbot would otherwise keep the staging one until it is due.
 */
export function directorySuffix(directory: string): string {
  if (directory === LETS_ENCRYPT) return "";
  if (directory === LETS_ENCRYPT_STAGING) return "-staging";
  return `-${createHash("sha256").update(directory).digest("hex").slice(0, 8)}`;
}

export const acmeCertName = (tenant: string, directory: string): string =>
  `tenantry-${tenant}${directorySuffix(directory)}`;
export const wildcardCertName = (zone: string, directory: string): string =>
  `tenantry-wildcard-${zone}${directorySuffix(directory)}`;

function lineage(name: string): { certificate: string; key: string } {
  return {
    certificate: `${LETSENCRYPT_DIR}/live/${name}/fullchain.pem`,
    key: `${LETSENCRYPT_DIR}/live/${name}/privkey.pem`,
  };
}

export function acmeAccount(m: Manifest): AcmeAccount {
  return { directory: acmeDirectory(m.tls), email: m.tls.email };
}

/** The wildcard zone a tenant's names all sit directly under, if there is one. */
function tenantWildcardZone(m: Manifest, names: readonly string[]): string | undefined {
  const zones = new Set(names.map((n) => wildcardZoneOf(n, m.dns.zones)));
  const [zone] = [...zones];
  return zones.size === 1 ? zone : undefined;
}

/** The wildcard certificates of a host: one per managed zone its wildcard tenants sit under. */
export function hostWildcardCertificates(m: Manifest, host: string): CertificatePlan[] {
  const byZone = new Map<string, string[]>();
  for (const [name, tenant] of Object.entries(m.tenants)) {
    if (tenant.host !== host) continue;
    if (effectiveMode(tenant, m.hosts[host], m.tls).mode !== "wildcard") continue;
    const zone = tenantWildcardZone(m, [tenant.domain, ...tenant.aliases]);
    if (zone === undefined) continue; // manifest/tlsRules.ts refuses it
    byZone.set(zone, [...(byZone.get(zone) ?? []), name]);
  }
  return [...byZone.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([zone, tenants]) => {
      const name = wildcardCertName(zone, acmeDirectory(m.tls));
      return {
        kind: "wildcard" as const,
        name,
        host,
        names: [`*.${zone}`],
        zone,
        account: acmeAccount(m),
        ...lineage(name),
        tenants,
      };
    });
}

export function planTenantTls(m: Manifest, name: string): TenantTls {
  const tenant = m.tenants[name];
  if (tenant === undefined) throw new Error(`no tenant "${name}" in the manifest`);
  const { mode, source } = effectiveMode(tenant, m.hosts[tenant.host], m.tls);
  const names = [tenant.domain, ...tenant.aliases];
  // After a rename (previousName) the certificate keeps its name on the host, so it is kept.
  const identity = tenant.previousName ?? name;
  if (mode === "none") return { mode, source, hsts: false };
  if (mode === "wildcard") {
    const zone = tenantWildcardZone(m, names);
    const certificate = hostWildcardCertificates(m, tenant.host).find((c) => c.zone === zone);
    return { mode, source, hsts: tenant.hsts, certificate };
  }
  return {
    mode,
    source,
    hsts: tenant.hsts,
    certificate: {
      kind: "acme",
      name: acmeCertName(identity, acmeDirectory(m.tls)),
      host: tenant.host,
      names,
      account: acmeAccount(m),
      ...lineage(acmeCertName(identity, acmeDirectory(m.tls))),
      tenants: [name],
    },
  };
}

/** Every certificate the manifest holds: each acme tenant's, and each host's wildcards. */
export function manifestCertificates(m: Manifest): CertificatePlan[] {
  const acme = Object.keys(m.tenants)
    .map((t) => planTenantTls(m, t).certificate)
    .filter((c): c is CertificatePlan => c !== undefined && c.kind === "acme");
  const wildcard = Object.keys(m.hosts).flatMap((h) => hostWildcardCertificates(m, h));
  return [...acme, ...wildcard];
}

/** A certificate the ACME server would be asked for, and why. */
export interface CertificateRequest {
  readonly certificate: CertificatePlan;
  readonly reason: "new" | "names changed" | "new on this host" | "new lineage";
}

const setKey = (names: readonly string[]): string => [...names].sort().join(" ");

/**
 * What applying `after` asks the ACME server for when `before` is what is applied now (every
 * certificate when there is no `before`: a first apply, or new hosts). A certificate whose host,
 * lineage and names are unchanged is never requested: certbot keeps it until it is due, and
 * renewals are not part of a change.
 */
export function certificateRequests(after: Manifest, before?: Manifest): CertificateRequest[] {
  const old = before === undefined ? [] : manifestCertificates(before);
  const byLineage = new Map(old.map((c) => [`${c.host}\0${c.name}`, c]));
  const byNames = new Set(old.map((c) => setKey(c.names)));
  const byHostNames = new Set(old.map((c) => `${c.host}\0${setKey(c.names)}`));
  const requests: CertificateRequest[] = [];
  for (const cert of manifestCertificates(after)) {
    const previous = byLineage.get(`${cert.host}\0${cert.name}`);
    if (previous !== undefined && setKey(previous.names) === setKey(cert.names)) continue;
    // Another lineage for the same names on the host: another ACME server, or a renamed tenant.
    const reason =
      previous !== undefined
        ? "names changed"
        : byHostNames.has(`${cert.host}\0${setKey(cert.names)}`)
          ? "new lineage"
          : byNames.has(setKey(cert.names))
            ? "new on this host"
            : "new";
    requests.push({ certificate: cert, reason });
  }
  return requests;
}

/** A limit of the ACME server's, as its documentation states it. */
export interface AcmeLimit {
  readonly max: number;
  readonly window: string;
}

/**
 * Let's Encrypt's limits that a change can run into (letsencrypt.org/docs/rate-limits): new
 * certificates per registered domain and new orders per account. Renewals of the same names
 * are exempt from the first; certbot renews each certificate once, 30 days before it expires.
 * Failed validations (5 per name per hour) cannot be planned: an apply tries each name once.
 */
export const LETS_ENCRYPT_LIMITS = {
  perRegisteredDomain: { max: 50, window: "7 days" },
  perAccount: { max: 300, window: "3 hours" },
} as const satisfies Record<string, AcmeLimit>;

/** From this share of a limit on, a change is warned about. */
export const NEAR_LIMIT = 0.8;

export interface LimitFinding {
  readonly level: "warning" | "refusal";
  /** Where the first tenant concerned is (for FILE:LINE:COL). */
  readonly path: readonly PathSegment[];
  readonly message: string;
}

export interface LimitReport {
  readonly directory: string;
  /** Whether the directory's limits are known (Let's Encrypt production). */
  readonly checked: boolean;
  readonly requests: readonly CertificateRequest[];
  readonly findings: readonly LimitFinding[];
  /** Requests per registered domain, most first. */
  readonly perRegisteredDomain: ReadonlyArray<readonly [string, number]>;
  /** Requests per account (host), most first. */
  readonly perAccount: ReadonlyArray<readonly [string, number]>;
}

function listTenants(tenants: readonly string[]): string {
  const shown = tenants.slice(0, 3).join(", ");
  return tenants.length > 3 ? `${shown} and ${tenants.length - 3} more` : shown;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

/**
 * Counts what a change requests per registered domain (Public Suffix List aware) and per
 * account, and warns from NEAR_LIMIT of a limit or refuses past it. Without `before` the count
 * is that of a first apply: past a limit it is a warning, since certificates issued in earlier
 * weeks do not count again. The counts cannot see certificates issued earlier in the same
 * window (by an apply earlier this week), so the warning says so.
 */
export function checkAcmeLimits(after: Manifest, before?: Manifest): LimitReport {
  const directory = acmeDirectory(after.tls);
  const requests = certificateRequests(after, before);
  const perDomain = countBy(requests, (r) => registeredDomain(r.certificate.names[0]!));
  const perAccount = countBy(requests, (r) => r.certificate.host);
  const sorted = (m: Map<string, CertificateRequest[]>) =>
    [...m.entries()]
      .map(([k, v]) => [k, v.length] as const)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const report = {
    directory,
    requests,
    perRegisteredDomain: sorted(perDomain),
    perAccount: sorted(perAccount),
  };
  if (directory !== LETS_ENCRYPT) return { ...report, checked: false, findings: [] };

  const firstApply = before === undefined;
  const scope = firstApply ? "a first apply of this manifest" : "this change";
  const findings: LimitFinding[] = [];
  const judge = (count: number, limit: AcmeLimit): LimitFinding["level"] | undefined => {
    if (count > limit.max) return firstApply ? "warning" : "refusal";
    return count >= Math.ceil(limit.max * NEAR_LIMIT) ? "warning" : undefined;
  };
  const pathOf = (r: CertificateRequest): PathSegment[] =>
    r.certificate.kind === "acme"
      ? ["tenants", r.certificate.tenants[0]!, "domain"]
      : ["hosts", r.certificate.host];

  for (const [domain, reqs] of perDomain) {
    const limit = LETS_ENCRYPT_LIMITS.perRegisteredDomain;
    const level = judge(reqs.length, limit);
    if (level === undefined) continue;
    const tenants = reqs.flatMap((r) => r.certificate.tenants);
    // Tenants of this registered domain that a wildcard certificate could serve instead.
    const couldShare = reqs.filter(
      (r) =>
        r.certificate.kind === "acme" &&
        r.certificate.names.every((n) => wildcardZoneOf(n, after.dns.zones) !== undefined),
    );
    const zones = [
      ...new Set(couldShare.map((r) => zoneFor(r.certificate.names[0]!, after.dns.zones)!)),
    ];
    const hint =
      couldShare.length > 0
        ? `; ${couldShare.length} of them sit directly under managed zone ${zones.join(", ")}: set tls: wildcard (on the tenants, their host or tls.mode) and they share one certificate per host`
        : "; onboard in batches across weeks";
    const past = reqs.length > limit.max;
    findings.push({
      level,
      path: pathOf(reqs[0]!),
      message: `${scope} requests ${reqs.length} new certificates under ${domain} (${listTenants(tenants)}); Let's Encrypt issues at most ${limit.max} per registered domain per ${limit.window}, including any issued earlier in that window${past ? "" : `: ${limit.max - reqs.length} left at most`}${hint}`,
    });
  }
  for (const [host, reqs] of perAccount) {
    const limit = LETS_ENCRYPT_LIMITS.perAccount;
    const level = judge(reqs.length, limit);
    if (level === undefined) continue;
    findings.push({
      level,
      path: ["hosts", host],
      message: `${scope} places ${reqs.length} new orders from host ${host}'s ACME account; Let's Encrypt accepts at most ${limit.max} per account per ${limit.window}: apply in smaller steps (each host has its own account)`,
    });
  }
  return { ...report, checked: true, findings };
}

/** One line on where the certificates come from, and whether limits were checked. */
export function describeDirectory(report: LimitReport): string {
  if (report.checked) return `Let's Encrypt (${report.directory})`;
  if (report.directory === LETS_ENCRYPT_STAGING) {
    return `Let's Encrypt staging (${report.directory}; its limits are far higher and not checked; its certificates are not trusted by browsers)`;
  }
  return `${report.directory} (its limits are unknown to tenantry and not checked)`;
}
