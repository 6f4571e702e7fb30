// Pure: the nginx text tenantry installs. One site file per tenant, and one include per host
// that defines the catch-all server and pulls the sites in.
import { createHash } from "node:crypto";
import { normalizeRoute } from "../core/routes";
import type { SiteSpec } from "../plan/site";

/** The owner line of a site file (see core/names.ts `siteMarker`). */
export function markerLine(marker: string): string {
  return `# tenantry-site: ${marker}`;
}

const PROXY_HEADERS = [
  "proxy_http_version 1.1;",
  "proxy_set_header Host $host;",
  "proxy_set_header X-Real-IP $remote_addr;",
  "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
  "proxy_set_header X-Forwarded-Proto $scheme;",
  "proxy_set_header X-Forwarded-Host $host;",
  "proxy_set_header Upgrade $http_upgrade;",
  "proxy_set_header Connection $tenantry_connection_upgrade;",
  "proxy_read_timeout 300s;",
];

/**
 * TLS settings of every HTTPS server, the default one included (protocol and cipher choice
 * happen before SNI picks a server): TLS 1.2 and 1.3 only, forward-secret AEAD ciphers for 1.2
 * (OpenSSL's 1.3 suites are all strong), the client's order (all are strong), no session
 * tickets (their key would live for the worker's lifetime).
 */
export const TLS_PARAMS = [
  "ssl_protocols TLSv1.2 TLSv1.3;",
  "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;",
  "ssl_prefer_server_ciphers off;",
  "ssl_session_cache shared:tenantry_tls:10m;",
  "ssl_session_timeout 1d;",
  "ssl_session_tickets off;",
];

/** The location certbot's HTTP-01 challenges are answered from. */
export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** One HSTS year: what browsers' preload lists ask for, without preload or subdomains. */
const HSTS = 'add_header Strict-Transport-Security "max-age=31536000" always;';

function routeLocations(spec: SiteSpec): string[] {
  // Longest prefix first only for readability: nginx picks the longest match regardless.
  const routes = [...spec.routes].sort(
    (a, b) => normalizeRoute(b.path).length - normalizeRoute(a.path).length,
  );
  return routes.flatMap((route) => [
    "",
    `    # service ${route.service}`,
    `    location ${normalizeRoute(route.path)} {`,
    `        proxy_pass http://${route.address ?? "127.0.0.1"}:${route.port};`,
    ...PROXY_HEADERS.map((h) => `        ${h}`),
    "    }",
  ]);
}

/**
 * The tenant's site on HTTP. With TLS it also answers ACME challenges (HTTP-01) and includes the
 * redirect its TLS step writes once the certificate is in place: until then, and whenever an
 * issuance fails, the site keeps serving HTTP.
 */
export function renderSite(spec: SiteSpec): string {
  return [...siteHead(spec), ...routeLocations(spec), "}"].join("\n") + "\n";
}

/**
 * The HTTP server up to its locations: listen, names, body size and, with TLS, the ACME
 * challenges and the redirect include. Shared with the maintenance site, so a suspended
 * tenant's certificate still renews and its HTTP still redirects.
 */
export function siteHead(spec: SiteSpec): string[] {
  const lines = [
    markerLine(spec.marker),
    `# Managed by tenantry for tenant ${spec.tenant}. Edits are overwritten; change tenants.yaml.`,
    "server {",
    ...spec.listen.map((l) => `    listen ${l};`),
    `    server_name ${spec.domains.join(" ")};`,
    "",
    `    client_max_body_size ${spec.maxBodySize};`,
    ...httpTlsLines(spec),
  ];
  return lines;
}

/** With TLS, what the HTTP server keeps in every state: ACME challenges and the redirect. */
export function httpTlsLines(spec: SiteSpec): string[] {
  if (spec.tls === undefined) return [];
  return [
    ...(spec.tls.webroot === undefined
      ? []
      : [
          "",
          "    # ACME HTTP-01 challenges, written by certbot (first issuance and renewals).",
          `    location ^~ ${ACME_CHALLENGE_PREFIX} {`,
          `        root ${spec.tls.webroot};`,
          '        default_type "text/plain";',
          "    }",
        ]),
    "",
    "    # The redirect to HTTPS, written by the tenant's TLS step once its certificate is in place.",
    `    include ${spec.tls.snippets}/redirect*.conf;`,
  ];
}

/** File name of a tenant's HTTPS server inside the sites directory (beside `<tenant>.conf`). */
export function tlsSiteFileName(tenant: string): string {
  return `${tenant}.tls.conf`;
}

/**
 * The tenant's HTTPS server. Its TLS step installs it once the certificate exists (nginx refuses
 * a server whose certificate file is missing), with the OCSP stapling snippet when the CA names
 * an OCSP responder in the certificate.
 */
export function renderTlsSite(spec: SiteSpec): string {
  return [...tlsSiteHead(spec), ...routeLocations(spec), "}"].join("\n") + "\n";
}

/** The HTTPS server up to its locations (shared with the maintenance site, as siteHead). */
export function tlsSiteHead(spec: SiteSpec): string[] {
  const tls = spec.tls;
  if (tls === undefined) throw new Error(`tenant ${spec.tenant} is not served over HTTPS`);
  return [
    markerLine(spec.marker),
    `# Managed by tenantry for tenant ${spec.tenant} (HTTPS). Edits are overwritten; change tenants.yaml.`,
    "server {",
    ...tls.listen.map((l) => `    listen ${l} ssl http2;`),
    `    server_name ${spec.domains.join(" ")};`,
    "",
    `    ssl_certificate ${tls.certificate};`,
    `    ssl_certificate_key ${tls.key};`,
    ...TLS_PARAMS.map((p) => `    ${p}`),
    "    # OCSP stapling, written by the TLS step when the certificate names a responder.",
    `    include ${tls.snippets}/stapling*.conf;`,
    ...(tls.hsts ? [`    ${HSTS}`] : []),
    "",
    `    client_max_body_size ${spec.maxBodySize};`,
  ];
}

/** The redirect snippet: every HTTP request but an ACME challenge goes to HTTPS. */
export function renderRedirect(): string {
  return [
    "# Written by the tenantry TLS step: the certificate is in place, HTTP redirects to HTTPS.",
    `if ($uri !~ "^${ACME_CHALLENGE_PREFIX.replace(/\./g, "\\.")}") {`,
    "    return 301 https://$host$request_uri;",
    "}",
    "",
  ].join("\n");
}

export interface HostIncludeSpec {
  readonly sitesDir: string;
  readonly listen: readonly string[];
  /** HTTPS listen addresses; none: no HTTPS default server. */
  readonly tlsListen?: readonly string[] | undefined;
}

/**
 * The per-host include. Its server is the default server of every listen address and answers
 * requests whose Host header no site claims by closing the connection (444), so a deleted or
 * unknown domain never falls through to another tenant or to the distribution's welcome page
 * (the bootstrap disables Debian's stock default site, which claims `default_server` too).
 */
export function renderHostInclude(spec: HostIncludeSpec): string {
  return [
    "# Managed by tenantry: catch-all server and tenant sites. Edits are overwritten.",
    "map $http_upgrade $tenantry_connection_upgrade {",
    "    default upgrade;",
    "    ''      close;",
    "}",
    "",
    "server {",
    ...spec.listen.map((l) => `    listen ${l} default_server;`),
    "    server_name _;",
    "    return 444;",
    "}",
    "",
    ...httpsDefaultServer(spec.tlsListen ?? []),
    `include ${spec.sitesDir}/*.conf;`,
    "",
  ].join("\n");
}

/**
 * The default server on the HTTPS addresses: it holds no certificate and rejects the handshake
 * (nginx 1.19.4+), so a name no tenant claims, or no name at all, never receives a tenant's
 * certificate. It also sets http2 on the addresses' sockets for nginx before 1.25.
 */
function httpsDefaultServer(listen: readonly string[]): string[] {
  if (listen.length === 0) return [];
  return [
    "server {",
    ...listen.map((l) => `    listen ${l} ssl http2 default_server;`),
    "    server_name _;",
    "    ssl_reject_handshake on;",
    ...TLS_PARAMS.map((p) => `    ${p}`),
    "}",
    "",
  ];
}

/** Digest of every site on a host: the reload step runs again when it changes. */
export function sitesDigest(sites: readonly SiteSpec[]): string {
  const hash = createHash("sha256");
  for (const site of [...sites].sort((a, b) => a.tenant.localeCompare(b.tenant))) {
    hash.update(`${site.tenant}\0${renderSite(site)}\0`);
  }
  return hash.digest("hex");
}
