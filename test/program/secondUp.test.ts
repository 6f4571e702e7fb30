// "The second `pulumi up` changes nothing" and "what each edit does to a running tenant", on the
// provider model (test/support/providerModel.ts): the first run's inputs become state as the
// providers would read them back, then a second evaluation is planned against that state.
// README "What each change does to a running tenant" is this file's table in prose.
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import type { OfflineRun } from "../../cli/offline";
import {
  applyPlan,
  plan,
  stateAfterUp,
  type ModelState,
  type Step,
} from "../support/providerModel";
import { evaluate } from "./helpers";

const example = readFileSync(path.resolve(__dirname, "../../tenants.yaml"), "utf8");
const dir = mkdtempSync(path.join(tmpdir(), "tenantry-second-up-"));

async function run(name: string, text: string): Promise<OfflineRun> {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  const result = await evaluate(file);
  if (!result.ok) throw new Error(result.stderr);
  return result.run!;
}

function edited(edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(example);
  edit(doc);
  return String(doc);
}

/** The steps as "op name (keys, order)" lines, by resource name, for whole-text comparison. */
function describeSteps(steps: readonly Step[], base: OfflineRun, next: OfflineRun): string[] {
  const names = new Map([...base.resources, ...next.resources].map((r) => [r.urn, r.name]));
  return steps
    .map((s) => {
      const name = names.get(s.urn) ?? s.urn;
      if (s.op === "replace") return `replace ${name} (${s.keys.join(", ")}; ${s.order})`;
      if (s.op === "update") return `update ${name} (${s.keys.join(", ")})`;
      return `${s.op} ${name}`;
    })
    .sort();
}

describe("the second pulumi up", () => {
  let base: OfflineRun;
  let state: Map<string, ModelState>;

  beforeAll(async () => {
    base = await run("base", example);
    state = stateAfterUp(base.resources);
  }, 120_000);

  it("changes nothing when the manifest is unchanged, as the providers read the first up back", async () => {
    const again = await run("again", example);
    expect(describeSteps(plan(state, again.resources), base, again)).toEqual([]);
  });

  it("updates memorySwap in place once on a host without swap accounting, then nothing", async () => {
    // Docker reports -1 there; the provider's Update writes the planned value without reading
    // back, so the third up is quiet. No container is replaced: no downtime.
    const host = { swapAccounting: false };
    const noSwap = stateAfterUp(base.resources, host);
    const again = await run("again-noswap", example);
    const second = describeSteps(plan(noSwap, again.resources), base, again);
    expect(second).toEqual(
      base.resources
        .filter((r) => r.type === "docker:index/container:Container")
        .map((r) => `update ${r.name} (memorySwap)`)
        .sort(),
    );
    const third = applyPlan(noSwap, again.resources, host);
    expect(describeSteps(plan(third, again.resources), base, again)).toEqual([]);
  });

  it("replaces only the tenant's container, stop-first, for an env change", async () => {
    const next = await run(
      "env",
      edited((d) => d.setIn(["tenants", "company2", "env", "COMPANY_NAME"], "Company 2")),
    );
    expect(describeSteps(plan(state, next.resources), base, next)).toEqual([
      "replace company2-web (envs; delete-first)",
    ]);
  });

  it("replaces a container whose health check changed, so the new check takes effect", async () => {
    const next = await run(
      "health",
      edited((d) => d.setIn(["apps", "mcoder", "services", "web", "health"], "/healthz")),
    );
    expect(describeSteps(plan(state, next.resources), base, next)).toEqual([
      "replace company2-web (healthcheck; delete-first)",
      "replace markplus-web (healthcheck; delete-first)",
    ]);
  });

  it("pulls the new image and replaces every container of the app for an image bump", async () => {
    const next = await run(
      "image",
      edited((d) =>
        d.setIn(["apps", "mcoder", "services", "web", "image"], "ghcr.io/example/mcoder:1.5.0"),
      ),
    );
    expect(describeSteps(plan(state, next.resources), base, next)).toEqual([
      "create vps1-image-ghcr-io-example-mcoder-1-5-0-576f261e",
      "delete vps1-image-ghcr-io-example-mcoder-1-4-2-773318c0",
      "replace company2-web (image; delete-first)",
      "replace markplus-web (image; delete-first)",
    ]);
  });

  it("updates memory and replaces for the CPU share on a plan change", async () => {
    const next = await run(
      "plan",
      edited((d) => d.setIn(["tenants", "company2", "plan"], "team")),
    );
    expect(describeSteps(plan(state, next.resources), base, next)).toEqual([
      "replace company2-web (cpus; delete-first)",
    ]);
  });

  it("moves the tenant's port, its site and the host's reload for a slot change", async () => {
    const next = await run(
      "slot",
      edited((d) => d.setIn(["tenants", "company2", "slot"], 7)),
    );
    expect(describeSteps(plan(state, next.resources), base, next)).toEqual([
      "replace company2-web (ports; delete-first)",
      "replace vps1-nginx-reload (triggers; create-first)",
      "update company2-site (stdin)",
    ]);
  });

  it("removes a dropped service's container, keeps its volume, and re-splits the plan", async () => {
    const next = await run(
      "service-removed",
      edited((d) => d.deleteIn(["apps", "frontbase", "services", "edge"])),
    );
    const steps = describeSteps(plan(state, next.resources), base, next);
    expect(steps).toEqual([
      "delete tenant1-edge",
      "delete tenant1-edge-data",
      "delete vps1-image-ghcr-io-example-frontbase-edge-2-3-0-c672d102",
      // The plan is shared by weight: the others get more memory (in place) and CPU (replace).
      "replace tenant1-backend (cpus; delete-first)",
      "replace tenant1-frontend (cpus; delete-first)",
      "replace tenant1-redis (cpus; delete-first)",
    ]);
    const volume = base.resources.find((r) => r.name === "tenant1-edge-data")!;
    expect(volume.retainOnDelete).toBe(true); // the engine's delete of it is a no-op
  });
});
