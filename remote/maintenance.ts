// Pure: what a suspended tenant gets on its host: its containers stopped, and on all its
// domains a 503 maintenance page with Retry-After, served by nginx from a file of its own.
// The page replaces the site's content under the same file and owner marker, so the site
// command only re-runs (no replacement) and resuming puts the app's site back the same way.
import { createHash } from "node:crypto";
import { maintenanceFile, type MaintenancePlan } from "../plan/lifecycle";
import type { SiteSpec } from "../plan/site";
import type { TenantPlan } from "../plan/tenant";
import {
  httpTlsLines,
  markerLine,
  renderSite,
  renderTlsSite,
  sitesDigest,
  tlsSiteHead,
} from "./nginx";
import { containerOfFunction } from "./containers";
import { argValue, asRoot, type RootOperation } from "./operation";
import { NGINX_PARAMS, TENANT_PARAM, type HostLayout } from "./scripts";
import { raw, script, sh, type Shell } from "./shell";

/**
 * The site a suspended tenant's domains answer with: every path, 503 and the page. With TLS it
 * keeps the ACME challenges (renewals go on while suspended) and the redirect to HTTPS, where
 * renderMaintenanceTlsSite answers the same way.
 */
export function renderMaintenanceSite(site: SiteSpec, maintenance: MaintenancePlan): string {
  return [
    markerLine(site.marker),
    `# Managed by tenantry: tenant ${site.tenant} is suspended (its containers are stopped). Edits are overwritten.`,
    "server {",
    ...site.listen.map((l) => `    listen ${l};`),
    `    server_name ${site.domains.join(" ")};`,
    ...httpTlsLines(site),
    "",
    ...maintenanceLocations(maintenance),
    "}",
    "",
  ].join("\n");
}

/** The HTTPS server of a suspended tenant: its certificate, and the maintenance page. */
export function renderMaintenanceTlsSite(site: SiteSpec, maintenance: MaintenancePlan): string {
  return [...tlsSiteHead(site), "", ...maintenanceLocations(maintenance), "}", ""].join("\n");
}

function maintenanceLocations(maintenance: MaintenancePlan): string[] {
  const slash = maintenance.file.lastIndexOf("/");
  const dir = maintenance.file.slice(0, slash);
  const page = maintenance.file.slice(slash);
  return [
    `    add_header Retry-After ${maintenance.retryAfter} always;`,
    '    add_header Cache-Control "no-store" always;',
    "    location / {",
    // nginx serves a file only to GET and HEAD (405 otherwise): other methods get a short text.
    "        if ($request_method !~ ^(GET|HEAD)$) {",
    '            return 503 "Temporarily unavailable.\\n";',
    "        }",
    "        return 503;",
    "    }",
    // A named location keeps the 503 (an error_page to a URI would be served as it is); the
    // rewrite picks the one file, whatever path was asked for.
    "    error_page 503 @maintenance;",
    "    location @maintenance {",
    `        root ${dir};`,
    `        rewrite ^ ${page} break;`,
    "        default_type text/html;",
    "        charset utf-8;",
    `        add_header Retry-After ${maintenance.retryAfter} always;`,
    '        add_header Cache-Control "no-store" always;',
    "    }",
  ];
}

/** The site text the tenant's site command installs, for the state it is in. */
export function siteText(plan: TenantPlan): string {
  return plan.lifecycle.serves === "maintenance"
    ? renderMaintenanceSite(plan.site, plan.lifecycle.maintenance)
    : renderSite(plan.site);
}

/** The HTTPS server the tenant's TLS step installs, for the state it is in. */
export function tlsSiteText(plan: Pick<TenantPlan, "site" | "lifecycle">): string {
  return plan.lifecycle.serves === "maintenance"
    ? renderMaintenanceTlsSite(plan.site, plan.lifecycle.maintenance)
    : renderTlsSite(plan.site);
}

/**
 * The host reload step's trigger: the sites it serves, as sitesDigest has them while every
 * tenant is active (so an upgrade adds no reload); with suspended tenants, their maintenance
 * sites count too, so suspending and resuming reload nginx. Decommissioned tenants have no site
 * (their site's delete reloads by itself).
 */
export function hostSitesDigest(plans: readonly TenantPlan[]): string {
  const app = plans.filter((p) => p.lifecycle.serves === "app").map((p) => p.site);
  const paused = plans.filter((p) => p.lifecycle.serves === "maintenance");
  if (paused.length === 0) return sitesDigest(app);
  const hash = createHash("sha256").update(sitesDigest(app));
  for (const p of [...paused].sort((a, b) => a.name.localeCompare(b.name))) {
    hash.update(`\0maintenance\0${p.site.tenant}\0${siteText(p)}`);
  }
  return hash.digest("hex");
}

/** Installs the page from stdin (mode 0644: nginx's workers read it). Unchanged: no-op. */
export function maintenanceInstallScript(maintenance: Pick<MaintenancePlan, "file">): Shell {
  const file = maintenance.file;
  return script(
    raw("set -eu"),
    raw('fail() { printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    sh`mkdir -p "$(dirname ${file})" || fail ${`cannot create the directory of ${file}`}`,
    sh`cat >${file}.tenantry-new || { rm -f ${file}.tenantry-new; fail ${`cannot write ${file} (disk full?)`}; }`,
    sh`[ -s ${file}.tenantry-new ] || { rm -f ${file}.tenantry-new; fail "no maintenance page on stdin"; }`,
    sh`if [ -f ${file} ] && cmp -s ${file}.tenantry-new ${file}; then rm -f ${file}.tenantry-new; echo ${`tenantry: maintenance page ${file} unchanged`}; exit 0; fi`,
    sh`chmod 0644 ${file}.tenantry-new`,
    sh`mv -f ${file}.tenantry-new ${file} || fail ${`cannot move ${file} into place`}`,
    sh`echo ${`tenantry: maintenance page ${file} installed`}`,
  );
}

/** Removes the page once the tenant is active again (its site no longer names it). */
export function maintenanceRemoveScript(maintenance: Pick<MaintenancePlan, "file">): Shell {
  return script(
    raw("set -eu"),
    sh`rm -f ${maintenance.file} ${maintenance.file}.tenantry-new`,
    sh`echo ${`tenantry: maintenance page ${maintenance.file} removed`}`,
  );
}

/** Seconds `docker stop` gives an app to shut down before SIGKILL. */
export const STOP_GRACE_SECONDS = 30;

/**
 * Stops the tenant's running containers (as the SSH user, through its docker group): volumes,
 * network and the containers themselves stay. `restart: unless-stopped` keeps them stopped
 * across a dockerd restart or a reboot; `state: active` has the Docker provider start them again.
 */
export function suspendScript(tenant: string, containers: readonly string[]): Shell {
  return script(
    raw("set -eu"),
    raw('stopped=""'),
    raw(
      'stop() { if [ "$(docker inspect --format \'{{.State.Running}}\' "$1" 2>/dev/null || true)" = true ]; then',
    ),
    sh`  docker stop --time ${STOP_GRACE_SECONDS} "$1" >/dev/null`,
    raw('  stopped="$stopped $1"'),
    raw("fi; }"),
    containerOfFunction(),
    containers.map((c) => sh`stop "$(container_of ${c})"`),
    sh`if [ -n "$stopped" ]; then echo ${`tenantry: tenant ${tenant} suspended; stopped:`}"$stopped"; else echo ${`tenantry: tenant ${tenant} suspended; nothing was running`}; fi`,
  );
}

/** The suspend step's command text: the script as the SSH user (its docker group suffices). */
export function suspendCommand(tenant: string, containers: readonly string[]): string {
  return sh`/bin/sh -c ${suspendScript(tenant, containers).text}`.text;
}

/** The page of the tenant the entry point was given, in the nginx DIR it was given. */
const OPERATION_PAGE = { file: maintenanceFile(argValue("dir"), argValue("tenant")) };
const PAGE_PARAMS = [NGINX_PARAMS.dir, TENANT_PARAM];

export const MAINTENANCE_INSTALL: RootOperation = {
  name: "maintenance-install",
  summary: "installs a suspended tenant's maintenance page from stdin",
  params: PAGE_PARAMS,
  body: () => maintenanceInstallScript(OPERATION_PAGE),
};

export const MAINTENANCE_REMOVE: RootOperation = {
  name: "maintenance-remove",
  summary: "removes a tenant's maintenance page",
  params: PAGE_PARAMS,
  body: () => maintenanceRemoveScript(OPERATION_PAGE),
};

export const MAINTENANCE_OPERATIONS = [MAINTENANCE_INSTALL, MAINTENANCE_REMOVE];

/** The maintenance page's commands: its file is `maintenanceFile(nginx dir, identity)`. */
export function maintenanceCommands(
  user: string,
  layout: HostLayout,
  identity: string,
): { create: string; delete: string } {
  return {
    create: asRoot(user, MAINTENANCE_INSTALL, [layout.dir, identity]),
    delete: asRoot(user, MAINTENANCE_REMOVE, [layout.dir, identity]),
  };
}
