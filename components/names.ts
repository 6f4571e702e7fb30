// Pure: the names of a tenant's objects. Pulumi resource names and Docker object names are the
// same, so `docker ps` on a host reads like the manifest. rules.ts rejects manifests where two
// tenants would get the same name (tenant "acme" service "web-x" vs tenant "acme-web" service "x").
import type { App } from "./manifest/schema";

export const networkName = (tenant: string): string => `${tenant}-net`;
export const containerName = (tenant: string, service: string): string => `${tenant}-${service}`;
export const volumeName = (tenant: string, service: string, volume: string): string =>
  `${tenant}-${service}-${volume}`;
/** Secret names are upper case and tenant names lower case, so these cannot collide. */
export const secretResourceName = (tenant: string, secret: string): string =>
  `${tenant}-secret-${secret}`;
/** The main domain's record is `acme-dns`; an alias's record carries its domain. */
export const dnsResourceName = (tenant: string, domain: string, main: boolean): string =>
  main ? `${tenant}-dns` : `${tenant}-dns-${domain}`;
export const siteResourceName = (tenant: string): string => `${tenant}-site`;

export type DockerObjectKind = "container" | "volume" | "network";

/** The Docker objects (and same-named Pulumi resources) a tenant of this app gets. */
export function dockerObjectNames(
  tenant: string,
  app: App,
): Array<{ kind: DockerObjectKind; name: string }> {
  const out: Array<{ kind: DockerObjectKind; name: string }> = [
    { kind: "network", name: networkName(tenant) },
  ];
  for (const [service, svc] of Object.entries(app.services)) {
    out.push({ kind: "container", name: containerName(tenant, service) });
    for (const volume of Object.keys(svc.volumes)) {
      out.push({ kind: "volume", name: volumeName(tenant, service, volume) });
    }
  }
  return out;
}
