// Pure data: what a tenant's nginx site serves. remote/nginx.ts renders it as text.

export interface SiteRoute {
  readonly service: string;
  /** Path prefix as written in the manifest ("/", "/api"). */
  readonly path: string;
  /** Host port on 127.0.0.1 the service is published on. */
  readonly port: number;
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
}
