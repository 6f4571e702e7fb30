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

export function renderSite(spec: SiteSpec): string {
  // Longest prefix first only for readability: nginx picks the longest match regardless.
  const routes = [...spec.routes].sort(
    (a, b) => normalizeRoute(b.path).length - normalizeRoute(a.path).length,
  );
  const lines = [
    markerLine(spec.marker),
    `# Managed by tenantry for tenant ${spec.tenant}. Edits are overwritten; change tenants.yaml.`,
    "server {",
    ...spec.listen.map((l) => `    listen ${l};`),
    `    server_name ${spec.domains.join(" ")};`,
    "",
    `    client_max_body_size ${spec.maxBodySize};`,
  ];
  for (const route of routes) {
    lines.push(
      "",
      `    # service ${route.service}`,
      `    location ${normalizeRoute(route.path)} {`,
      `        proxy_pass http://127.0.0.1:${route.port};`,
      ...PROXY_HEADERS.map((h) => `        ${h}`),
      "    }",
    );
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

export interface HostIncludeSpec {
  readonly sitesDir: string;
  readonly listen: readonly string[];
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
    `include ${spec.sitesDir}/*.conf;`,
    "",
  ].join("\n");
}

/** Digest of every site on a host: the reload step runs again when it changes. */
export function sitesDigest(sites: readonly SiteSpec[]): string {
  const hash = createHash("sha256");
  for (const site of [...sites].sort((a, b) => a.tenant.localeCompare(b.tenant))) {
    hash.update(`${site.tenant}\0${renderSite(site)}\0`);
  }
  return hash.digest("hex");
}
