// Rules for a tenant's life (README, "Day-2 operations"): init steps name a real service,
// backup dumps can be put back, offsite repositories are complete, and a renamed tenant's old
// name is unambiguous. Pure: manifest in, problems out; wired into rules.ts checkRules.
import { dockerObjectNames } from "../core/names";
import { listChoices, type Problem } from "./problems";
import { normalVolumePath, OFFSITE_SFTP, type Manifest, type Service } from "./schema";

export function checkLifecycle(m: Manifest): Problem[] {
  return [...checkInit(m), ...checkServiceBackups(m), ...checkHostBackups(m), ...checkRenames(m)];
}

function checkInit(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [appName, app] of Object.entries(m.apps)) {
    for (const [step, def] of Object.entries(app.init ?? {})) {
      if (!Object.hasOwn(app.services, def.service)) {
        problems.push({
          path: ["apps", appName, "init", step, "service"],
          message: `is not a service of app "${appName}"; use ${listChoices(Object.keys(app.services))}`,
        });
      }
      const seen = new Set<string>();
      (def.secrets ?? []).forEach((secret, i) => {
        if (seen.has(secret)) {
          problems.push({
            path: ["apps", appName, "init", step, "secrets", i],
            message: `names ${secret} twice; list each secret once`,
          });
        }
        seen.add(secret);
        if (secret.startsWith("TENANTRY_")) {
          problems.push({
            path: ["apps", appName, "init", step, "secrets", i],
            message: `TENANTRY_ names are what tenantry itself passes (TENANTRY_DOMAIN, TENANTRY_INIT_ID...); pick another name`,
          });
        }
      });
    }
  }
  return problems;
}

/** Whether a container path lies in one of the service's volumes. */
function inVolume(svc: Service, path: string): boolean {
  const p = normalVolumePath(path);
  return Object.values(svc.volumes).some((v) => {
    const mount = normalVolumePath(v);
    return p === mount || p.startsWith(`${mount}/`);
  });
}

function checkServiceBackups(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [appName, app] of Object.entries(m.apps)) {
    for (const [svcName, svc] of Object.entries(app.services)) {
      const backup = svc.backup;
      if (backup === undefined) continue;
      const at = ["apps", appName, "services", svcName, "backup"];
      const volumes = Object.values(svc.volumes);
      const where =
        volumes.length === 0
          ? "the service has no volumes"
          : `its volumes are mounted at ${volumes.join(", ")}`;
      if (backup.restoreTo === undefined && backup.restore === undefined) {
        problems.push({
          path: at,
          at: "key",
          message:
            "has a dump but no way to put it back: add restoreTo (the file the dump is, e.g. /data/app.db for sqlite3 .backup) or restore (a command that loads it from stdin, e.g. psql)",
        });
      }
      if (backup.restoreTo !== undefined && backup.restore !== undefined) {
        problems.push({
          path: [...at, "restore"],
          message:
            "and restoreTo are two ways to put the dump back; keep one (restoreTo for a file, restore for a command)",
        });
      }
      if (backup.restoreTo !== undefined && !inVolume(svc, backup.restoreTo)) {
        problems.push({
          path: [...at, "restoreTo"],
          message: `must be a file inside one of the service's volumes, or the restored dump would be lost with the container; ${where}`,
        });
      }
      (backup.exclude ?? []).forEach((path, i) => {
        if (!inVolume(svc, path)) {
          problems.push({
            path: [...at, "exclude", i],
            message: `must be inside one of the service's volumes (only volumes are backed up); ${where}`,
          });
        }
      });
    }
  }
  return problems;
}

function checkHostBackups(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [hostName, host] of Object.entries(m.hosts)) {
    const offsite = host.backup?.offsite;
    if (offsite === undefined) continue;
    const at = ["hosts", hostName, "backup", "offsite"];
    if (OFFSITE_SFTP.test(offsite.url)) {
      if (offsite.hostKey === undefined) {
        problems.push({
          path: at,
          at: "key",
          message:
            "an sftp repository needs hostKey, the pinned SSH key of the backup server (`ssh-keyscan -t ed25519 HOST`, the key part): backups never trust an unknown server",
        });
      }
    } else {
      for (const key of ["port", "hostKey"] as const) {
        if (offsite[key] !== undefined) {
          problems.push({
            path: [...at, key],
            message: "is for an sftp repository; an s3 URL carries its own endpoint",
          });
        }
      }
    }
  }
  return problems;
}

/**
 * A renamed tenant keeps its old objects on the host and its old resources in the stack, so
 * its old name must belong to nobody else, and the objects it keeps must not clash with
 * another tenant's.
 */
function checkRenames(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  const tenants = Object.entries(m.tenants);
  if (!tenants.some(([, t]) => t.previousName !== undefined)) return problems;
  const previous = new Map<string, string>(); // previousName → tenant
  const refused = new Set<string>(); // tenants whose previousName is already reported
  for (const [name, tenant] of tenants) {
    const old = tenant.previousName;
    if (old === undefined) continue;
    const at = ["tenants", name, "previousName"];
    if (old === name || Object.hasOwn(m.tenants, old) || previous.has(old)) refused.add(name);
    if (old === name) {
      problems.push({
        path: at,
        message: "is the tenant's own name; remove previousName, or give the name it had",
      });
    } else if (Object.hasOwn(m.tenants, old)) {
      problems.push({
        path: at,
        message: `"${old}" is another tenant in this file: two tenants cannot share one identity; a rename moves the entry (delete "${old}:" when you add previousName)`,
      });
    } else if (previous.has(old)) {
      problems.push({
        path: at,
        message: `tenant "${previous.get(old)}" already has previousName "${old}": only one tenant can keep its resources and data`,
      });
    } else {
      previous.set(old, name);
    }
  }
  // Docker objects as they are named on the host: after the old name where there is one.
  const owners = new Map<string, string>();
  const reported = new Set<string>(); // "tenant/owner": one problem per pair of tenants
  for (const [name, tenant] of tenants) {
    const app = m.apps[tenant.app];
    if (app === undefined || refused.has(name)) continue;
    const identity = tenant.previousName ?? name;
    for (const { kind, name: object } of dockerObjectNames(identity, app)) {
      const key = `${tenant.host}/${kind}/${object}`;
      const owner = owners.get(key);
      if (owner !== undefined && owner !== name) {
        if (reported.has(`${name}/${owner}`)) continue;
        reported.add(`${name}/${owner}`);
        problems.push({
          path: ["tenants", name, ...(tenant.previousName === undefined ? [] : ["previousName"])],
          at: tenant.previousName === undefined ? "key" : "value",
          message: `its ${kind} on host ${tenant.host} would be "${object}", the same as a ${kind} of tenant "${owner}" (names on the host follow previousName); rename one of them`,
        });
      } else {
        owners.set(key, name);
      }
    }
  }
  return problems;
}
