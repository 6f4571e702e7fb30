// Rules for moving a tenant to another host. Validation sees only the new manifest, so the
// move is said in it: `previousHost` names where the tenant ran, and a tenant with volumes
// must say with `moveData` what happens to its data, which never travels by itself (its
// volumes are retained on the old host and new, empty ones are created on the new one).
import { volumeName } from "../core/names";
import { didYouMean, listChoices, type Problem } from "./problems";
import type { Manifest } from "./schema";

export function checkMoves(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [tenantName, tenant] of Object.entries(m.tenants)) {
    const at = ["tenants", tenantName];
    const from = tenant.previousHost;
    if (from === undefined) {
      if (tenant.moveData !== undefined) {
        problems.push({
          path: [...at, "moveData"],
          message:
            "only means something with previousHost (the host the tenant is moving from); remove it, or add previousHost",
        });
      }
      continue;
    }
    if (m.hosts[from] === undefined) {
      const hosts = Object.keys(m.hosts);
      problems.push({
        path: [...at, "previousHost"],
        message: `unknown host "${from}"${didYouMean(from, hosts)}; use ${listChoices(hosts)} (keep the old host's entry until the move is done)`,
      });
      continue;
    }
    if (from === tenant.host) {
      problems.push({
        path: [...at, "previousHost"],
        message: `is the tenant's own host "${from}": the move is done; remove previousHost and moveData`,
      });
      continue;
    }
    const app = m.apps[tenant.app];
    if (app === undefined || tenant.moveData !== undefined) continue;
    const volumes = Object.entries(app.services).flatMap(([svc, s]) =>
      Object.keys(s.volumes).map((v) => volumeName(tenant.previousName ?? tenantName, svc, v)),
    );
    if (volumes.length === 0) continue;
    problems.push({
      path: [...at, "previousHost"],
      message: `tenant "${tenantName}" moves from "${from}" to "${tenant.host}", and its data does not travel with it: ${volumes.join(", ")} would start empty on "${tenant.host}" while the data stays on "${from}". Suspend it, copy the volumes (README, "Moving a tenant to another host") and set moveData: copied; or set moveData: empty to start empty`,
    });
  }
  return problems;
}
