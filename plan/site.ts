// Pure data: what a tenant's nginx site serves. remote/nginx.ts renders it as text.

export interface SiteRoute {
  readonly service: string;
  /** Path prefix as written in the manifest ("/", "/api"). */
  readonly path: string;
  /** Host port the service is published on. */
  readonly port: number;
  /**
   * The loopback address it is published on: 127.0.0.1, or a rolling service's generation
   * address (core/rollout.ts laneAddress), which the component fills in from its container.
   */
  readonly address?: string | undefined;
}

export interface SiteSpec {
  readonly tenant: string;
  /** Identity of the resource that owns the file; see core/names.ts `siteMarker`. */
  readonly marker: string;
  /** Main domain first, then aliases. */
  readonly domains: readonly string[];
  readonly listen: readonly string[];
  readonly maxBodySize: string;
  readonly routes: readonly SiteRoute[];
  /** HTTPS (tls acme or wildcard): remote/nginx.ts adds the :443 server and the redirect. */
  readonly tls?: SiteTls | undefined;
}

export interface SiteTls {
  /** nginx listen addresses for HTTPS (`hosts.<name>.nginx.tlsListen`). */
  readonly listen: readonly string[];
  /** The certificate chain and key nginx serves (certbot's live lineage). */
  readonly certificate: string;
  readonly key: string;
  readonly hsts: boolean;
  /** HTTP-01 only: the directory certbot writes challenges to, served on :80. */
  readonly webroot?: string | undefined;
  /** Directory where the tenant's TLS step writes its redirect and OCSP stapling snippets. */
  readonly snippets: string;
}

/** The site with each named service's routes sent to its address (a rolling generation's). */
export function withUpstreams<S extends SiteSpec>(
  site: S,
  addresses: Readonly<Record<string, string>>,
): S {
  return {
    ...site,
    routes: site.routes.map((r) =>
      Object.hasOwn(addresses, r.service) ? { ...r, address: addresses[r.service] } : r,
    ),
  };
}
