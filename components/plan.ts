// Pure: what each tenant gets, derived once from the validated manifest. The components only
// turn these plans into resources; the CLI prints them.
import { isIP } from "node:net";
import type { Manifest } from "./manifest/schema";
import { serviceCpus, serviceMemoryMb, serviceSecrets } from "./manifest/rules";
import { containerName, volumeName } from "./names";
import { renderSite, siteFileName, siteMarker } from "./nginx";
import { tenantPorts } from "./ports";
import { sh } from "./shell";

export interface VolumePlan {
  readonly name: string;
  /** Docker volume name: `<tenant>-<service>-<volume>`. */
  readonly volumeName: string;
  readonly path: string;
}

export interface ServicePlan {
  readonly name: string;
  /** Docker container name and network alias prefix: `<tenant>-<service>`. */
  readonly containerName: string;
  readonly image: string;
  readonly port?: number;
  /** Host port on 127.0.0.1, for routed services only. */
  readonly hostPort?: number;
  readonly route?: string;
  readonly command?: readonly string[];
  readonly healthCheck?: readonly string[];
  readonly volumes: readonly VolumePlan[];
  /** Plain environment, app env then tenant env (the tenant wins). */
  readonly env: Readonly<Record<string, string>>;
  /** Generated secrets: env name ← tenant secret name. */
  readonly generatedSecrets: readonly { readonly env: string; readonly secret: string }[];
  /** Env names whose values come from stack config (`tenant.<name>.<KEY>`). */
  readonly configSecrets: readonly string[];
  readonly memoryMb: number;
  readonly cpus: number;
}

export type DnsRecordType = "A" | "AAAA" | "CNAME";

export type DnsPlan =
  | {
      readonly domain: string;
      readonly managed: true;
      readonly zone: string;
      readonly zoneId: string;
      readonly type: DnsRecordType;
      readonly content: string;
    }
  | {
      readonly domain: string;
      readonly managed: false;
      readonly type: DnsRecordType;
      readonly content: string;
      /** What the customer must create at their DNS provider. */
      readonly instruction: string;
    };

export interface TenantPlan {
  readonly name: string;
  readonly app: string;
  readonly plan: string;
  readonly host: string;
  readonly slot: number;
  readonly domain: string;
  readonly domains: readonly string[];
  readonly tls: "none" | "certbot";
  readonly url: string;
  readonly services: readonly ServicePlan[];
  /** Unique generated secret names (one RandomPassword each). */
  readonly secrets: readonly string[];
  readonly secretEnv: readonly string[];
  readonly ports: Readonly<Record<string, number>>;
  readonly site: { readonly marker: string; readonly fileName: string; readonly config: string };
  readonly dns: readonly DnsPlan[];
}

/** Stack config key that holds a tenant's secretEnv value. */
export function configSecretKey(tenant: string, key: string): string {
  return `tenant.${tenant}.${key}`;
}

/**
 * Health check run inside the container: curl, else wget, else python3, since slim images
 * rarely ship all three.
 */
export function healthCheckCommand(port: number, path: string): string[] {
  const url = `http://127.0.0.1:${port}${path}`;
  const python = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=4)";
  return [
    "CMD-SHELL",
    sh`curl -fsS -o /dev/null ${url} || wget -q -O /dev/null ${url} || python3 -c ${python} ${url} || exit 1`
      .text,
  ];
}

export function recordType(target: string): DnsRecordType {
  const family = isIP(target);
  return family === 4 ? "A" : family === 6 ? "AAAA" : "CNAME";
}

/** The zone a domain falls in (longest match), if any. */
export function zoneFor(
  domain: string,
  zones: Readonly<Record<string, string>>,
): string | undefined {
  return Object.keys(zones)
    .filter((zone) => domain === zone || domain.endsWith(`.${zone}`))
    .sort((a, b) => b.length - a.length)[0];
}

export function planDns(
  domain: string,
  target: string,
  zones: Readonly<Record<string, string>>,
): DnsPlan {
  const type = recordType(target);
  const zone = zoneFor(domain, zones);
  if (zone !== undefined) {
    return { domain, managed: true, zone, zoneId: zones[zone]!, type, content: target };
  }
  return {
    domain,
    managed: false,
    type,
    content: target,
    instruction: `outside every managed zone: the customer creates ${type} ${domain} → ${target} at their DNS provider`,
  };
}

export function planTenant(m: Manifest, name: string): TenantPlan {
  const tenant = m.tenants[name];
  if (tenant === undefined) throw new Error(`no tenant "${name}" in the manifest`);
  const app = m.apps[tenant.app]!;
  const plan = m.plans[tenant.plan]!;
  const host = m.hosts[tenant.host]!;
  const ports = tenantPorts(tenant, app, host);

  const services: ServicePlan[] = Object.entries(app.services).map(([svcName, svc]) => {
    const env: Record<string, string> = { ...svc.env, ...(svc.tenantEnv ? tenant.env : {}) };
    return {
      name: svcName,
      containerName: containerName(name, svcName),
      image: svc.image,
      port: svc.port,
      hostPort: ports[svcName],
      route: svc.route,
      command: svc.command,
      healthCheck:
        svc.health !== undefined && svc.port !== undefined
          ? healthCheckCommand(svc.port, svc.health)
          : undefined,
      volumes: Object.entries(svc.volumes).map(([vol, path]) => ({
        name: vol,
        volumeName: volumeName(name, svcName, vol),
        path,
      })),
      env: Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b))),
      generatedSecrets: serviceSecrets(svc.secrets),
      configSecrets: svc.tenantEnv ? tenant.secretEnv : [],
      memoryMb: serviceMemoryMb(app, svcName, plan.memoryMb),
      cpus: serviceCpus(app, svcName, plan.cpus),
    };
  });

  const domains = [tenant.domain, ...tenant.aliases];
  const marker = siteMarker(name, tenant.host);
  const target = host.publicAddress ?? host.address;
  return {
    name,
    app: tenant.app,
    plan: tenant.plan,
    host: tenant.host,
    slot: tenant.slot,
    domain: tenant.domain,
    domains,
    tls: tenant.tls,
    url: `http://${tenant.domain}`,
    services,
    secrets: [...new Set(services.flatMap((s) => s.generatedSecrets.map((g) => g.secret)))].sort(),
    secretEnv: tenant.secretEnv,
    ports,
    site: {
      marker,
      fileName: siteFileName(name),
      config: renderSite({
        tenant: name,
        marker,
        domains,
        listen: host.nginx.listen,
        maxBodySize: app.maxBodySize,
        routes: services
          .filter((s) => s.route !== undefined && s.hostPort !== undefined)
          .map((s) => ({ service: s.name, path: s.route!, port: s.hostPort! })),
      }),
    },
    dns: domains.map((d) => planDns(d, target, m.dns.zones)),
  };
}

export function planTenants(m: Manifest): TenantPlan[] {
  return Object.keys(m.tenants).map((name) => planTenant(m, name));
}
