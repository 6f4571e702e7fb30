// The stack outputs of a tenant's life, read in-process under mocks (an Output's value and its
// secret flag do not survive the child-process runs of lifecycle.test.ts): a generated admin
// password is a secret output per tenant, and a decommissioned tenant's output says what is
// retained and how to purge it.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { mockPasswordResult, runOffline, type OfflineRun } from "../../cli/offline";

const dir = mkdtempSync(path.join(tmpdir(), "tenantry-lifecycle-outputs-"));
const doc = parseDocument(readFileSync(path.resolve(__dirname, "../../tenants.yaml"), "utf8"));
doc.setIn(["apps", "mcoder", "init"], {
  admin: { service: "web", command: ["python", "setup_admin.py"], secrets: ["ADMIN_PASSWORD"] },
});
doc.setIn(["tenants", "tenant1", "state"], "decommissioned");
const file = path.join(dir, "tenants.yaml");
writeFileSync(file, String(doc));

let run: OfflineRun;
beforeAll(async () => {
  run = await runOffline({ tenantsFile: file });
}, 60_000);

/** An Output's value and secret flag (the SDK's own accessors). */
async function resolved<T>(o: unknown): Promise<{ value: T; secret: boolean }> {
  const output = o as pulumi.Output<T> & { promise(): Promise<T>; isSecret: Promise<boolean> };
  return { value: await output.promise(), secret: await output.isSecret };
}

it("exports each tenant's init secrets as one secret output, and only those", async () => {
  const { value, secret } = await resolved<Record<string, Record<string, string>>>(
    run.outputs.tenantSecrets,
  );
  expect(secret).toBe(true);
  // Both mcoder tenants run the step; tenant1 (frontbase) has none.
  expect(value).toEqual({
    markplus: { ADMIN_PASSWORD: mockPasswordResult("markplus-secret-ADMIN_PASSWORD") },
    company2: { ADMIN_PASSWORD: mockPasswordResult("company2-secret-ADMIN_PASSWORD") },
  });
  expect(JSON.stringify(run.outputs.tenants)).not.toContain(value.markplus!.ADMIN_PASSWORD);
});

it("says what a decommissioned tenant keeps and the command that purges it", () => {
  const tenants = run.outputs.tenants as Record<string, Record<string, unknown>>;
  expect(tenants.tenant1).toMatchObject({
    state: "decommissioned",
    retained: {
      volumes: ["tenant1-backend-data", "tenant1-edge-data", "tenant1-redis-data"],
      backups: ["/var/lib/tenantry/backups/tenant1"],
      purge: "npx tenantry purge tenant1 --yes",
    },
  });
  expect(tenants.markplus!.state).toBeUndefined(); // active tenants' outputs are as before
});
