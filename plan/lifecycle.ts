// Pure: where a tenant is in its life (README, "Day-2 operations") and what that means for its
// resources: which exist, what its site serves, its first-run (init) steps, and the identity
// its objects keep on the host across a rename (`previousName`).
import { createHash } from "node:crypto";
import { containerName } from "../core/names";
import type { App, Manifest, TenantState } from "../manifest/schema";

/** What a suspended tenant's domains answer when the app gives no page of its own. */
export const DEFAULT_MAINTENANCE_PAGE = [
  "<!doctype html>",
  '<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head>',
  "<body><h1>Temporarily unavailable</h1><p>This site is paused. Please try again later.</p></body></html>",
  "",
].join("\n");
export const DEFAULT_RETRY_AFTER = 3600;

export interface InitStepPlan {
  /** The step's key under `apps.<app>.init`. */
  readonly name: string;
  readonly service: string;
  /** The container `docker exec` runs the command in (the tenant's host identity). */
  readonly containerName: string;
  readonly command: readonly string[];
  /** Generated tenant secrets passed as environment (env name = secret name). */
  readonly secrets: readonly string[];
  /**
   * Digest of the step's definition: the command's trigger (a change runs the step again) and
   * the marker the command sees as TENANTRY_INIT_ID.
   */
  readonly id: string;
}

export interface MaintenancePlan {
  /** HTML served with the 503. */
  readonly page: string;
  readonly retryAfter: number;
  /** The page's file on the host, in tenantry's nginx directory (readable by nginx). */
  readonly file: string;
}

export interface LifecyclePlan {
  readonly state: TenantState;
  /**
   * The name the tenant's objects carry on the host (containers, volumes, network, site file,
   * backups): `previousName` after a rename, so nothing there is replaced; else the name.
   */
  readonly identity: string;
  readonly previousName?: string;
  /** Containers (and the network) exist: not when decommissioned. */
  readonly runs: boolean;
  /** What nginx serves on its domains. */
  readonly serves: "app" | "maintenance" | "nothing";
  readonly init: readonly InitStepPlan[];
  /** Secrets named by init steps: a secret stack output each (e.g. the first admin's password). */
  readonly initSecrets: readonly string[];
  readonly maintenance: MaintenancePlan;
}

/** A suspended tenant's page: `<nginx.dir>/maintenance/<identity>.html`. */
export const maintenanceFile = (nginxDir: string, identity: string): string =>
  `${nginxDir}/maintenance/${identity}.html`;

/** The digest of an init step's definition: its service, argv and the secrets it gets. */
export function initStepId(step: {
  readonly service: string;
  readonly command: readonly string[];
  readonly secrets: readonly string[];
}): string {
  const text = JSON.stringify([step.service, step.command, [...step.secrets].sort()]);
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

export function planInit(app: App, identity: string): InitStepPlan[] {
  return Object.entries(app.init ?? {}).map(([name, step]) => {
    const secrets = [...new Set(step.secrets ?? [])];
    return {
      name,
      service: step.service,
      containerName: containerName(identity, step.service),
      command: step.command,
      secrets,
      id: initStepId({ service: step.service, command: step.command, secrets }),
    };
  });
}

export function planLifecycle(m: Manifest, name: string): LifecyclePlan {
  const tenant = m.tenants[name];
  if (tenant === undefined) throw new Error(`no tenant "${name}" in the manifest`);
  const app = m.apps[tenant.app]!;
  const state = tenant.state ?? "active";
  const identity = tenant.previousName ?? name;
  const init = planInit(app, identity);
  return {
    state,
    identity,
    ...(tenant.previousName === undefined ? {} : { previousName: tenant.previousName }),
    runs: state !== "decommissioned",
    serves: state === "active" ? "app" : state === "suspended" ? "maintenance" : "nothing",
    init,
    initSecrets: [...new Set(init.flatMap((s) => s.secrets))].sort(),
    maintenance: {
      page: app.maintenance?.page ?? DEFAULT_MAINTENANCE_PAGE,
      retryAfter: app.maintenance?.retryAfter ?? DEFAULT_RETRY_AFTER,
      file: maintenanceFile(m.hosts[tenant.host]!.nginx.dir, identity),
    },
  };
}

/**
 * The name a child resource had before the rename: `acme2-web` → `acme-web`,
 * `acme2-dns/www.acme.io` → `acme-dns/www.acme.io`. Children are named `${tenant}-<role>`
 * (STYLE.md), so the role after the tenant's name is what stays; undefined for a name that
 * does not start with the tenant's.
 */
export function previousResourceName(
  resourceName: string,
  tenant: string,
  previousName: string,
): string | undefined {
  if (!resourceName.startsWith(`${tenant}-`)) return undefined;
  return `${previousName}${resourceName.slice(tenant.length)}`;
}
