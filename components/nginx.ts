// Pure: the nginx text tenantry installs. One site file per tenant, and one include per host
// that defines the catch-all server and pulls the sites in.

/** nginx location prefix for a route: "/" stays, "/api" becomes "/api/". */
export function normalizeRoute(route: string): string {
  return route.endsWith("/") ? route : `${route}/`;
}

export interface SiteRoute {
  readonly service: string;
  /** Path prefix as written in the manifest ("/", "/api"). */
  readonly path: string;
  /** Host port on 127.0.0.1 the service is published on. */
  readonly port: number;
}

export interface SiteSpec {
  readonly tenant: string;
  /** Identity of the resource that owns the file; see `siteMarker`. */
  readonly marker: string;
  /** Main domain first, then aliases. */
  readonly domains: readonly string[];
  readonly listen: readonly string[];
  readonly maxBodySize: string;
  readonly routes: readonly SiteRoute[];
}

/**
 * The owner line written into a site file. A site command deletes the file only while it still
 * carries its own marker, so a replacement (created before the old one is deleted) survives.
 * It names everything that makes Pulumi replace the command (its triggers).
 */
export function siteMarker(tenant: string, host: string): string {
  return `${tenant}@${host}`;
}

export function markerLine(marker: string): string {
  return `# tenantry-site: ${marker}`;
}

/** File name of a tenant's site inside the sites directory. */
export function siteFileName(tenant: string): string {
  return `${tenant}.conf`;
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
 * The per-host include. Its server answers requests whose Host header no site claims by
 * closing the connection (444): it comes before every tenant site, so a deleted or unknown
 * domain never falls through to another tenant. An explicit `default_server` elsewhere (the
 * distribution's welcome page) still takes precedence, which is safe too.
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
    ...spec.listen.map((l) => `    listen ${l};`),
    "    server_name _;",
    "    return 444;",
    "}",
    "",
    `include ${spec.sitesDir}/*.conf;`,
    "",
  ].join("\n");
}
