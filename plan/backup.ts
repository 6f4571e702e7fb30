// Pure: what a tenant's backups hold and where they go. Every volume of the tenant is copied
// under a path that names its service and volume (not the tenant), so a snapshot restores into
// the same tenant after a rename; a service that declares a dump is backed up through it while
// it runs. Retention, schedule and repositories come from the host's `backup` entry.
import { offsiteCredentials, offsiteKind } from "../core/offsite";
import type { Manifest } from "../manifest/schema";
import type { LifecyclePlan } from "./lifecycle";
import type { ServicePlan } from "./tenant";

import { STATE_DIR } from "../core/backupPaths";

export { STATE_DIR };
export const DEFAULT_REPOSITORY_ROOT = `${STATE_DIR}/backups`;
export const DEFAULT_BACKUP_AT = "03:00";
export const DEFAULT_KEEP_DAILY = 7;
/**
 * The directory a backup is taken from and a restore goes to, inside a private mount namespace
 * (volumes are bind-mounted there): the same path for every tenant, so snapshots read the same.
 */
export const STAGE = "/run/tenantry/stage";

/** A tenant's own directory on the host (mode 0700): its restic key, tool and init markers. */
export const tenantStateDir = (identity: string): string => `${STATE_DIR}/tenants/${identity}`;
/** The host-side tool `tenantry backup/restore/purge` and the schedule run. */
export const tenantTool = (identity: string): string => `${tenantStateDir(identity)}/tool`;
/** Readable by the SSH user (no secret in it): the outcome of the last backup. */
export const STATUS_DIR = `${STATE_DIR}/status`;
export const backupStatusFile = (identity: string): string => `${STATUS_DIR}/${identity}`;

export interface BackupVolume {
  readonly service: string;
  readonly volume: string;
  readonly volumeName: string;
  /** Where the volume is mounted in the service's container. */
  readonly containerPath: string;
  /** Where it appears in the snapshot. */
  readonly stage: string;
}

export interface DumpPlan {
  readonly service: string;
  readonly containerName: string;
  /** argv run with `docker exec`; its stdout is the dump. */
  readonly command: readonly string[];
  /** Where the dump appears in the snapshot. */
  readonly stage: string;
  /** Live files the dump stands for, as snapshot paths (left out while the service runs). */
  readonly exclude: readonly string[];
  /** The dump goes back as this file (volume + path inside it) while the tenant is stopped. */
  readonly restoreTo?: { readonly volumeName: string; readonly relative: string };
  /** Or is loaded by this argv in the started container, dump on stdin. */
  readonly restore?: readonly string[];
}

export type OffsitePlan =
  | { readonly kind: "s3"; readonly url: string }
  | {
      readonly kind: "sftp";
      readonly url: string;
      readonly user: string;
      readonly address: string;
      readonly port: number;
      readonly hostKey: string;
    };

export interface BackupPlan {
  readonly tenant: string;
  /** The name on the host (see LifecyclePlan.identity): directories and repositories. */
  readonly identity: string;
  readonly host: string;
  /** The local restic repository (a directory on the host). */
  readonly repository: string;
  readonly offsite?: OffsitePlan;
  readonly keep: { readonly daily: number; readonly weekly: number; readonly monthly: number };
  readonly volumes: readonly BackupVolume[];
  readonly dumps: readonly DumpPlan[];
  /** Every container of the tenant, in service order (stopped and started by a restore). */
  readonly containers: readonly string[];
  /** Taken nightly by the host's timer: not once decommissioned (its final backup is kept). */
  readonly scheduled: boolean;
  /** Decommissioned: one final backup, with the tenant's secrets in it. */
  readonly final: boolean;
}

/** The volume a container path lies in (the deepest mount wins), and the path inside it. */
export function volumeOf(
  volumes: readonly BackupVolume[],
  service: string,
  path: string,
): { volume: BackupVolume; relative: string } | undefined {
  const candidates = volumes
    .filter((v) => v.service === service)
    .filter((v) => path === v.containerPath || path.startsWith(`${v.containerPath}/`))
    .sort((a, b) => b.containerPath.length - a.containerPath.length);
  const volume = candidates[0];
  if (volume === undefined) return undefined;
  return { volume, relative: path.slice(volume.containerPath.length).replace(/^\/+/, "") };
}

const stageOf = (found: { volume: BackupVolume; relative: string }): string =>
  found.relative === "" ? found.volume.stage : `${found.volume.stage}/${found.relative}`;

export function planBackup(
  m: Manifest,
  name: string,
  lifecycle: LifecyclePlan,
  services: readonly ServicePlan[],
): BackupPlan {
  const tenant = m.tenants[name]!;
  const app = m.apps[tenant.app]!;
  const settings = m.hosts[tenant.host]!.backup ?? {};
  const identity = lifecycle.identity;
  const volumes: BackupVolume[] = services.flatMap((s) =>
    s.volumes.map((v) => ({
      service: s.name,
      volume: v.name,
      volumeName: v.volumeName,
      containerPath: v.path.length > 1 ? v.path.replace(/\/+$/, "") : v.path,
      stage: `${STAGE}/volumes/${s.name}/${v.name}`,
    })),
  );
  const dumps: DumpPlan[] = [];
  for (const s of services) {
    const declared = app.services[s.name]?.backup;
    if (declared === undefined) continue;
    // lifecycleRules.ts refuses paths outside the service's volumes; skip them defensively.
    const exclude = (declared.exclude ?? []).flatMap((p) => {
      const found = volumeOf(volumes, s.name, p);
      return found === undefined ? [] : [stageOf(found)];
    });
    const target =
      declared.restoreTo === undefined ? undefined : volumeOf(volumes, s.name, declared.restoreTo);
    dumps.push({
      service: s.name,
      containerName: s.containerName,
      command: declared.dump,
      stage: `${STAGE}/dumps/${s.name}`,
      exclude,
      ...(target === undefined
        ? {}
        : { restoreTo: { volumeName: target.volume.volumeName, relative: target.relative } }),
      ...(declared.restore === undefined ? {} : { restore: declared.restore }),
    });
  }
  const root = (settings.repository ?? DEFAULT_REPOSITORY_ROOT).replace(/\/+$/, "");
  return {
    tenant: name,
    identity,
    host: tenant.host,
    repository: `${root}/${identity}`,
    ...(settings.offsite === undefined ? {} : { offsite: offsitePlan(settings.offsite, identity) }),
    keep: {
      daily: settings.keepDaily ?? DEFAULT_KEEP_DAILY,
      weekly: settings.keepWeekly ?? 0,
      monthly: settings.keepMonthly ?? 0,
    },
    volumes,
    dumps,
    containers: services.map((s) => s.containerName),
    scheduled: lifecycle.state !== "decommissioned",
    final: lifecycle.state === "decommissioned",
  };
}

function offsitePlan(
  offsite: { url: string; port?: number | undefined; hostKey?: string | undefined },
  identity: string,
): OffsitePlan {
  const url = `${offsite.url.replace(/\/+$/, "")}/${identity}`;
  if (offsiteKind(offsite.url) === "s3") return { kind: "s3", url };
  const [, user, address] = /^sftp:([^@]+)@([^:]+):/.exec(offsite.url)!;
  return {
    kind: "sftp",
    url,
    user: user!,
    address: address!,
    port: offsite.port ?? 22,
    hostKey: offsite.hostKey ?? "",
  };
}

/** The time of day the host's backups start. */
export function backupTime(m: Manifest, host: string): { hour: number; minute: number } {
  const [hour, minute] = (m.hosts[host]?.backup?.at ?? DEFAULT_BACKUP_AT).split(":").map(Number);
  return { hour: hour!, minute: minute! };
}

/** Stack secrets an offsite repository needs: env name → config key (`tenantry:` omitted). */
export function offsiteSecretKeys(m: Manifest, host: string): Array<{ env: string; key: string }> {
  const offsite = m.hosts[host]?.backup?.offsite;
  if (offsite === undefined) return [];
  return offsiteCredentials(host, offsite.url).map(({ env, key }) => ({ env, key }));
}

/** What a decommissioned tenant still holds, as the stack output, `list` and `status` show it. */
export interface RetainedData {
  readonly volumes: readonly string[];
  readonly backups: readonly string[];
  /** The one command that deletes it all, for good. */
  readonly purge: string;
}

export function retainedData(plan: BackupPlan): RetainedData {
  return {
    volumes: plan.volumes.map((v) => v.volumeName),
    backups: [plan.repository, ...(plan.offsite === undefined ? [] : [plan.offsite.url])],
    purge: `npx tenantry purge ${plan.tenant} --yes`,
  };
}
