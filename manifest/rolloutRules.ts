// Rules on how a service is replaced (core/rollout.ts): a rolling replacement waits for the new
// container's health check, so it needs one, and a service whose backups dump a database must
// never run twice at once. Pure: manifest in, problems out; wired into rules.ts checkRules.
import type { Problem } from "./problems";
import type { Manifest } from "./schema";

export function checkRollouts(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  for (const [appName, app] of Object.entries(m.apps)) {
    for (const [svcName, svc] of Object.entries(app.services)) {
      if (svc.rollout !== "rolling") continue;
      const at = ["apps", appName, "services", svcName, "rollout"];
      if (svc.health === undefined) {
        problems.push({
          path: at,
          message: `rolling needs a health check to know when the new container is ready: add health (and port) to the service, or use "stop-first"`,
        });
      }
      if (svc.backup !== undefined) {
        problems.push({
          path: at,
          message: `rolling runs the old and the new container at once, and this service's backup dumps a database that must have one writer: use "stop-first"`,
        });
      }
    }
  }
  return problems;
}
