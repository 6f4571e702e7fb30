// Pure: what each tenant gets, derived once from the validated manifest. The components only
// turn these plans into resources (remote/ renders their text); the CLI prints them.
import { tenantImage } from "../core/images";
import { containerName, siteFileName, siteMarker, volumeName } from "../core/names";
import { tenantPorts } from "../core/ports";
import { serviceRollout, type Rollout } from "../core/rollout";
import { serviceCpus, serviceMemoryMb, serviceSecrets } from "../manifest/rules";
import type { Manifest } from "../manifest/schema";
import { planBackup, type BackupPlan } from "./backup";
import { planDns, type DnsPlan } from "./dns";
import { planLifecycle, type LifecyclePlan } from "./lifecycle";
import type { SiteSpec } from "./site";
import { planTenantTls, siteTls, type TenantTls } from "./tls";

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
  /** The image this tenant runs: its own pin, its channel's or the app's (core/images.ts). */
  readonly image: string;
  /** The service's re-pull token (`repull:`), if any: a change pulls its tag again. */
  readonly repull?: string;
  readonly port?: number;
  /** Host port on 127.0.0.1, for routed services only. */
  readonly hostPort?: number;
  readonly route?: string;
  readonly command?: readonly string[];
  /** HTTP health check inside the container: GET http://127.0.0.1:<port><path>. */
  readonly health?: {
    readonly port: number;
    readonly path: string;
    /** Seconds between checks (`healthInterval`, default 30). */
    readonly intervalSeconds: number;
  };
  /** How a replacement runs (core/rollout.ts): rolling only with a health check. */
  readonly rollout: Rollout;
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

export interface TenantPlan {
  readonly name: string;
  readonly app: string;
  readonly plan: string;
  readonly host: string;
  readonly slot: number;
  readonly domain: string;
  readonly domains: readonly string[];
  /** How it is served: acme, wildcard or none (HTTP only), and with which certificate. */
  readonly tls: TenantTls;
  readonly url: string;
  readonly services: readonly ServicePlan[];
  /** Unique generated secret names (one RandomPassword each). */
  readonly secrets: readonly string[];
  readonly secretEnv: readonly string[];
  readonly ports: Readonly<Record<string, number>>;
  /** The nginx site: what remote/nginx.ts renders and the site command installs. */
  readonly site: SiteSpec & { readonly fileName: string };
  readonly dns: readonly DnsPlan[];
  /** State, host identity after a rename, init steps, maintenance page (plan/lifecycle.ts). */
  readonly lifecycle: LifecyclePlan;
  /** What its backups hold and where they go (plan/backup.ts). */
  readonly backup: BackupPlan;
}

export function planTenant(m: Manifest, name: string): TenantPlan {
  const tenant = m.tenants[name];
  if (tenant === undefined) throw new Error(`no tenant "${name}" in the manifest`);
  const app = m.apps[tenant.app]!;
  const plan = m.plans[tenant.plan]!;
  const host = m.hosts[tenant.host]!;
  const ports = tenantPorts(tenant, app, host);
  const lifecycle = planLifecycle(m, name);
  // Objects on the host keep the name they were created under (previousName after a rename).
  const id = lifecycle.identity;

  const services: ServicePlan[] = Object.entries(app.services).map(([svcName, svc]) => {
    const env: Record<string, string> = { ...svc.env, ...(svc.tenantEnv ? tenant.env : {}) };
    return {
      name: svcName,
      containerName: containerName(id, svcName),
      image: tenantImage(app, tenant, svcName),
      ...(svc.repull === undefined ? {} : { repull: svc.repull }),
      port: svc.port,
      hostPort: ports[svcName],
      route: svc.route,
      command: svc.command,
      health:
        svc.health !== undefined && svc.port !== undefined
          ? { port: svc.port, path: svc.health, intervalSeconds: svc.healthInterval ?? 30 }
          : undefined,
      rollout: serviceRollout(svc),
      volumes: Object.entries(svc.volumes).map(([vol, path]) => ({
        name: vol,
        volumeName: volumeName(id, svcName, vol),
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
  const marker = siteMarker(id, tenant.host);
  const target = host.publicAddress ?? host.address;
  const tls = planTenantTls(m, name);
  return {
    name,
    app: tenant.app,
    plan: tenant.plan,
    host: tenant.host,
    slot: tenant.slot,
    domain: tenant.domain,
    domains,
    tls,
    url: `${tls.mode === "none" ? "http" : "https"}://${tenant.domain}`,
    services,
    secrets: [
      ...new Set([
        ...services.flatMap((s) => s.generatedSecrets.map((g) => g.secret)),
        ...lifecycle.initSecrets,
      ]),
    ].sort(),
    secretEnv: tenant.secretEnv,
    ports,
    site: {
      tenant: id,
      marker,
      fileName: siteFileName(id),
      domains,
      listen: host.nginx.listen,
      maxBodySize: app.maxBodySize,
      routes: services
        .filter((s) => s.route !== undefined && s.hostPort !== undefined)
        .map((s) => ({ service: s.name, path: s.route!, port: s.hostPort! })),
      tls: siteTls(tls, id, host.nginx),
    },
    dns: domains.map((d) => planDns(d, target, m.dns.zones)),
    lifecycle,
    backup: planBackup(m, name, lifecycle, services),
  };
}

export function planTenants(m: Manifest): TenantPlan[] {
  return Object.keys(m.tenants).map((name) => planTenant(m, name));
}
