// Pure: the names of a tenant's objects. Pulumi resource names and Docker object names are the
// same, so `docker ps` on a host reads like the manifest. manifest/rules.ts rejects manifests where two
// tenants would get the same name (tenant "acme" service "web-x" vs tenant "acme-web" service "x").
import { createHash } from "node:crypto";

export const networkName = (tenant: string): string => `${tenant}-net`;
export const containerName = (tenant: string, service: string): string => `${tenant}-${service}`;
export const volumeName = (tenant: string, service: string, volume: string): string =>
  `${tenant}-${service}-${volume}`;
/** Secret names are upper case and tenant names lower case, so these cannot collide. */
export const secretResourceName = (tenant: string, secret: string): string =>
  `${tenant}-secret-${secret}`;
/**
 * Every record is named by its domain: `acme-dns/acme.example.com`, `acme-dns/www.acme.io`.
 * Tenant names are DNS labels and domains have no "/", so the text before the "/" names the
 * tenant and the text after it the domain: two records never share a name (hence a URN), and
 * swapping a tenant's domain and alias keeps both records as they are (named by role, the swap
 * renamed each onto the other's name, which Cloudflare refuses as an identical record). Pulumi
 * allows any text but "::" in a name (pulumi/pulumi#14107), and `pulumi state rename` accepts "/".
 */
export const dnsResourceName = (tenant: string, domain: string): string =>
  `${tenant}-dns/${domain}`;

/**
 * The name a record had before `dnsResourceName` named records by domain: `acme-dns` for the
 * main domain's, `acme-dns-www.acme.io` for an alias's. The component passes it as the record's
 * Pulumi alias so existing records are adopted, not replaced. The alias scheme could give two
 * tenants one name (tenant "a" with alias "b-dns-c.example.com", tenant "a-dns-b" with alias
 * "c.example.com"): where the old name holds "-dns-" more than once it is undefined, as no state
 * can hold such a record for both, and two resources must never claim one alias.
 */
export function legacyDnsResourceName(
  tenant: string,
  domain: string,
  main: boolean,
): string | undefined {
  if (main) return `${tenant}-dns`;
  const name = `${tenant}-dns-${domain}`;
  return name.indexOf("-dns-") === name.lastIndexOf("-dns-") ? name : undefined;
}
export const siteResourceName = (tenant: string): string => `${tenant}-site`;

export type DockerObjectKind = "container" | "volume" | "network";

/** The Docker objects (and same-named Pulumi resources) a tenant of this app gets. */
export function dockerObjectNames(
  tenant: string,
  app: { readonly services: Readonly<Record<string, { readonly volumes: object }>> },
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

/** Stack config key that holds a tenant's secretEnv value. */
export function configSecretKey(tenant: string, key: string): string {
  return `tenant.${tenant}.${key}`;
}

/**
 * The owner line's value in a site file. A site command deletes the file only while it still
 * carries its own marker, so a replacement (created before the old one is deleted) survives.
 * It names everything that makes Pulumi replace the command (its triggers).
 */
export function siteMarker(tenant: string, host: string): string {
  return `${tenant}@${host}`;
}

/** File name of a tenant's site inside the sites directory. */
export function siteFileName(tenant: string): string {
  return `${tenant}.conf`;
}

/** Resource name part for an image: readable, and unique thanks to a short hash. */
export function imageSlug(image: string): string {
  const readable = image
    .replace(/[^a-z0-9]+/gi, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);
  const hash = createHash("sha256").update(image).digest("hex").slice(0, 8);
  return `${readable}-${hash}`;
}
