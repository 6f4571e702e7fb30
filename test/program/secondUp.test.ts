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
      // The old image's cleanup step removes it from the host once its containers are gone.
      "create vps1-image-cleanup-ghcr-io-example-mcoder-1-5-0-576f261e",
      "create vps1-image-ghcr-io-example-mcoder-1-5-0-576f261e",
      "delete vps1-image-cleanup-ghcr-io-example-mcoder-1-4-2-773318c0",
      "delete vps1-image-ghcr-io-example-mcoder-1-4-2-773318c0",
      "replace company2-web (image; delete-first)",
      "replace markplus-web (image; delete-first)",
    ]);
  });

  it("upgrades only the canary channel's tenants when the canary's image is bumped", async () => {
    // Wave 1: company2 joins the canary channel, which runs the app's version (no change).
    const joined = edited((d) => {
      d.setIn(["apps", "mcoder", "channels", "canary", "web"], "ghcr.io/example/mcoder:1.4.2");
      d.setIn(["tenants", "company2", "channel"], "canary");
    });
    const wave0 = await run("canary-join", joined);
    expect(describeSteps(plan(state, wave0.resources), base, wave0)).toEqual([]);
    // Wave 2: the canary moves to 1.5.0: only its tenant's container is replaced.
    const bumped = parseDocument(joined);
    bumped.setIn(["apps", "mcoder", "channels", "canary", "web"], "ghcr.io/example/mcoder:1.5.0");
    const canary = await run("canary-bump", String(bumped));
    expect(describeSteps(plan(state, canary.resources), base, canary)).toEqual([
      "create vps1-image-cleanup-ghcr-io-example-mcoder-1-5-0-576f261e",
      "create vps1-image-ghcr-io-example-mcoder-1-5-0-576f261e",
      "replace company2-web (image; delete-first)",
    ]);
    // A tenant's own pin does the same for one tenant.
    const pinned = await run(
      "tenant-pin",
      edited((d) =>
        d.setIn(["tenants", "markplus", "images", "web"], "ghcr.io/example/mcoder:1.5.0"),
      ),
    );
    expect(describeSteps(plan(state, pinned.resources), base, pinned)).toEqual([
      "create vps1-image-cleanup-ghcr-io-example-mcoder-1-5-0-576f261e",
      "create vps1-image-ghcr-io-example-mcoder-1-5-0-576f261e",
      "replace markplus-web (image; delete-first)",
    ]);
  });

  it("re-pulls a tag when its repull token changes, and replaces no container whose image stayed", async () => {
    const next = await run(
      "repull",
      edited((d) => d.setIn(["apps", "frontbase", "services", "redis", "repull"], "2026-11-30")),
    );
    // The pull step runs first; the image resource is then replaced and reads the id anew. The
    // model's image id does not change (no new push), so no container is replaced; a new id
    // would replace tenant1-redis like an image bump.
    expect(describeSteps(plan(state, next.resources), base, next)).toEqual([
      "create vps1-repull-redis-7-alpine-65b8118d",
      "replace vps1-image-redis-7-alpine-65b8118d (pullTriggers; create-first)",
    ]);
  });

  it("changes no DNS record when a tenant's domain and alias swap (records are named by domain)", async () => {
    const next = await run(
      "swap",
      edited((d) => {
        d.setIn(["tenants", "markplus", "domain"], "mcoder.markplus.co.id");
        d.setIn(["tenants", "markplus", "aliases"], ["mcoder.example.com"]);
      }),
    );
    // No DNS record changes: each keeps its name, zone, type and content. The site's server
    // names change order, so the host reloads nginx once; the TLS step re-runs for the new
    // main domain (plan/tls.ts).
    expect(describeSteps(plan(state, next.resources), base, next)).toEqual([
      "replace vps1-nginx-reload (triggers; create-first)",
      "update markplus-site (stdin)",
      "update markplus-tls (create, stdin)",
    ]);
  });

  it("moves a tenant's containers, network and volumes to its new host (replacementTrigger)", async () => {
    // The hosts are the same with a second one; the first up already records each Docker
    // object's host as its replacementTrigger.
    const twoHosts = edited((d) => {
      const vps1 = d.getIn(["hosts", "vps1"]) as { toJSON(): unknown };
      d.setIn(["hosts", "vps2"], d.createNode(vps1.toJSON()));
      d.setIn(["hosts", "vps2", "address"], "203.0.113.20");
    });
    const before = await run("two-hosts", twoHosts);
    const start = stateAfterUp(before.resources);
    const moved = parseDocument(twoHosts);
    moved.setIn(["tenants", "company2", "host"], "vps2");
    moved.setIn(["tenants", "company2", "previousHost"], "vps1");
    moved.setIn(["tenants", "company2", "moveData"], "empty");
    const next = await run("moved", String(moved));
    const steps = describeSteps(plan(start, next.resources), before, next);
    expect(steps.filter((s) => s.includes("company2"))).toEqual([
      // Every host command of the tenant is replaced: its connection (or site marker) changed.
      "replace company2-backup (connection; create-first)",
      "replace company2-net (replacementTrigger; delete-first)",
      "replace company2-site (connection, triggers; create-first)",
      "replace company2-tls (connection, triggers; delete-first)",
      // Delete-first: the old container goes on vps1 before the new one starts on vps2; the
      // old volumes are retained on vps1 (their delete is a no-op), the new ones start empty.
      "replace company2-web (replacementTrigger; delete-first)",
      "replace company2-web-files (replacementTrigger; delete-first)",
      "replace company2-web-instance (replacementTrigger; delete-first)",
      "update company2-dns/company2.example.com (content)",
    ]);
    // Without the trigger (state from before it existed) the engine would diff the inputs
    // alone under the new provider: the network and volumes would never be created on vps2
    // (and the container only be replaced when its image id differs: a pulled image has the
    // same id on every host, the mocks' ids differ per host).
    const untriggered = new Map(
      [...start].map(([urn, st]) => [urn, { ...st, replacementTrigger: undefined }]),
    );
    const silent = describeSteps(plan(untriggered, next.resources), before, next);
    expect(silent.filter((s) => /company2-(net|web-files|web-instance)/.test(s))).toEqual([]);
    for (const volume of ["company2-web-files", "company2-web-instance"]) {
      expect(next.resources.find((r) => r.name === volume)!.retainOnDelete).toBe(true);
    }
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
      // Its HTTPS server proxies to the same ports.
      "update company2-tls (stdin)",
    ]);
  });

  it("creates an added service's container for each tenant of the app and re-splits the plan", async () => {
    const next = await run(
      "service-added",
      edited((d) => {
        // The manifest then needs the web service's port offset (its position, 0): no port moves.
        d.setIn(["apps", "mcoder", "services", "web", "portOffset"], 0);
        d.setIn(
          ["apps", "mcoder", "services", "worker"],
          d.createNode({ image: "redis:7-alpine" }),
        );
      }),
    );
    // The existing containers get half the plan each: memory in place, the CPU share replaces
    // (stop-first). Its image, redis:7-alpine, is on the host already for tenant1.
    expect(describeSteps(plan(state, next.resources), base, next)).toEqual([
      "create company2-worker",
      "create markplus-worker",
      "replace company2-web (cpus; delete-first)",
      "replace markplus-web (cpus; delete-first)",
      "update company2-backup (stdin)",
      "update markplus-backup (stdin)",
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
      "delete vps1-image-cleanup-ghcr-io-example-frontbase-edge-2-3-0-c672d102",
      "delete vps1-image-ghcr-io-example-frontbase-edge-2-3-0-c672d102",
      // The plan is shared by weight: the others get more memory (in place) and CPU (replace).
      "replace tenant1-backend (cpus; delete-first)",
      // frontend is rolling (health, no volumes): a new generation, started beside the old one
      // under its own name and address; the site and HTTPS server switch to it.
      "replace tenant1-frontend (cpus, name, ports; create-first)",
      "replace tenant1-frontend-generation (keepers; create-first)",
      "replace tenant1-redis (cpus; delete-first)",
      // Its backups no longer name the dropped service's container.
      "update tenant1-backup (stdin)",
      "update tenant1-site (stdin)",
      "update tenant1-tls (stdin)",
    ]);
    const volume = base.resources.find((r) => r.name === "tenant1-edge-data")!;
    expect(volume.retainOnDelete).toBe(true); // the engine's delete of it is a no-op
  });

  it("upgrades a rolling service create-first, under a new name and address, and switches the site to it", async () => {
    const next = await run(
      "rolling-image",
      edited((d) =>
        d.setIn(
          ["apps", "frontbase", "services", "frontend", "image"],
          "ghcr.io/example/frontbase-frontend:2.4.0",
        ),
      ),
    );
    const steps = describeSteps(plan(state, next.resources), base, next);
    expect(steps.filter((l) => l.includes("tenant1-"))).toEqual([
      "replace tenant1-frontend (image, name, ports; create-first)",
      "replace tenant1-frontend-generation (keepers; create-first)",
      "update tenant1-site (stdin)",
      "update tenant1-tls (stdin)",
    ]);
    const container = (run: OfflineRun) =>
      run.resources.find((r) => r.name === "tenant1-frontend")!.inputs;
    const [before, after] = [container(base), container(next)];
    // Both generations are named <tenant>-<service>-<6 hex> and publish the same host port on
    // loopback, each on its own 127.x address: the new one can start while the old one runs.
    expect(before.name).toMatch(/^tenant1-frontend-[0-9a-f]{6}$/);
    expect(after.name).toMatch(/^tenant1-frontend-[0-9a-f]{6}$/);
    expect(after.name).not.toBe(before.name);
    const lane = (inputs: Record<string, unknown>) =>
      (inputs.ports as { ip: string; external: number }[])[0]!;
    expect(lane(after).external).toBe(lane(before).external);
    expect(lane(after).ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    expect(lane(after).ip).not.toBe(lane(before).ip);
    // The site proxies to the new generation's address; the old one's is gone from it.
    const site = (run: OfflineRun) =>
      String(run.resources.find((r) => r.name === "tenant1-site")!.inputs.stdin);
    expect(site(next)).toContain(`proxy_pass http://${lane(after).ip}:${lane(after).external};`);
    expect(site(next)).not.toContain(lane(before).ip);
    // The new container is waited for until healthy before anything depends on it.
    expect(after.wait).toBe(true);
    expect(after.waitTimeout).toBe(30 + 10 * 5);
    // A stop-first service of the same tenant (volumes) is untouched.
    expect(steps.some((l) => l.includes("tenant1-backend"))).toBe(false);
    // A second up after the upgrade changes nothing.
    const upgraded = applyPlan(state, next.resources);
    const again = await run(
      "rolling-image-again",
      String(readFileSync(path.join(dir, "rolling-image.yaml"))),
    );
    expect(describeSteps(plan(upgraded, again.resources), next, again)).toEqual([]);
  });
});
