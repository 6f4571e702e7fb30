// A tenant's life under mocks, each state its own evaluation (child processes): a rename with
// previousName resolves every resource to its old URN through its aliases (as the engine
// resolves alias specs) with nothing that would replace or re-run; suspending touches only the
// tenant's containers' start/mustRun and its commands; decommissioning keeps volumes and
// secrets, and re-activating gives back exactly the resources it had, secrets included.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseDocument, type Document } from "yaml";
import { mockPasswordResult, type RecordedResource } from "../../cli/offline";
import { evaluate, isSecret, reveal, T, type ChildResult } from "./helpers";

const example = readFileSync(path.resolve(__dirname, "../../tenants.yaml"), "utf8");
const dir = mkdtempSync(path.join(tmpdir(), "tenantry-lifecycle-"));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The example manifest after `change`. */
function edited(change: (doc: Document) => void): string {
  const doc = parseDocument(example);
  change(doc);
  return String(doc);
}

/** tenant1 renamed tenant-one, remembering its old name. */
const renamed = edited((doc) => {
  const tenants = doc.get("tenants") as { items: Array<{ key: { value: string } }> };
  const pair = tenants.items.find((p) => p.key.value === "tenant1")!;
  pair.key.value = "tenant-one";
  doc.setIn(["tenants", "tenant-one", "previousName"], "tenant1");
});
const inState = (state: string) =>
  edited((doc) => doc.setIn(["tenants", "tenant1", "state"], state));
/** The first-run step the tests give mcoder's tenants. */
const withInit = (command: string[], domain = "mcoder.example.com") =>
  edited((doc) => {
    doc.setIn(["apps", "mcoder", "init"], {
      admin: { service: "web", command, secrets: ["ADMIN_PASSWORD"] },
    });
    doc.setIn(["tenants", "markplus", "domain"], domain);
  });

const ROOT_STACK = "pulumi:pulumi:Stack";

/** `urn:pulumi:STACK::PROJECT::TYPE::NAME`: the qualified type (parent chain and own type). */
const qualifiedType = (urn: string): string => urn.split("::")[2]!;

/**
 * The URNs a resource's aliases stand for, as the engine computes them from specs (pulumi/pulumi
 * v3.248.0 pkg/resource/deploy/step_generator.go collapseAliasToUrn, resource.CreateURN): an
 * empty name or type is the resource's own, an empty parent its current parent. The engine
 * also derives children's aliases from an aliased parent (inheritedChildAlias); this does not,
 * so each resource must resolve by its own aliases.
 */
function aliasUrns(r: RecordedResource): string[] {
  const [, stackProject] = /^urn:pulumi:(.*?::.*?)::/.exec(r.urn)!;
  const [stack, project] = stackProject!.split("::");
  return (r.aliases ?? []).map((a) => {
    if (a.urn !== undefined) return a.urn;
    const parent = a.noParent === true ? "" : (a.parentUrn ?? r.parent);
    const chain =
      parent === "" || qualifiedType(parent) === ROOT_STACK ? "" : `${qualifiedType(parent)}$`;
    return `urn:pulumi:${a.stack ?? stack}::${a.project ?? project}::${chain}${a.type ?? r.type}::${a.name ?? r.name}`;
  });
}

/** The tenant's component and its children. */
function tenantResources(run: ChildResult, tenant: string): RecordedResource[] {
  const resources = run.run!.resources;
  const root = resources.find((r) => r.type === T.tenant && r.name === tenant)!;
  return resources.filter((r) => r === root || r.parent === root.urn);
}

describe("a tenant's life under mocks", () => {
  let base: ChildResult;
  let rename: ChildResult;
  let suspended: ChildResult;
  let decommissioned: ChildResult;
  let reactivated: ChildResult;
  let init: ChildResult;
  let initMoved: ChildResult;
  let initChanged: ChildResult;

  beforeAll(async () => {
    [base, rename, suspended, decommissioned, reactivated, init, initMoved, initChanged] =
      await Promise.all([
        evaluate(write("base.yaml", example)),
        evaluate(write("rename.yaml", renamed)),
        evaluate(write("suspended.yaml", inState("suspended"))),
        evaluate(write("decommissioned.yaml", inState("decommissioned"))),
        evaluate(write("reactivated.yaml", inState("active"))),
        evaluate(write("init.yaml", withInit(["python", "setup_admin.py"]))),
        evaluate(
          write("init-moved.yaml", withInit(["python", "setup_admin.py"], "mc.example.com")),
        ),
        evaluate(write("init-changed.yaml", withInit(["python", "setup_admin.py", "--force"]))),
      ]);
    for (const r of [
      base,
      rename,
      suspended,
      decommissioned,
      reactivated,
      init,
      initMoved,
      initChanged,
    ]) {
      expect(r.ok, r.stderr).toBe(true);
    }
  }, 120_000);

  it("after a rename, resolves every resource to its old URN by its aliases, and changes nothing that would replace or re-run it", () => {
    const old = tenantResources(base, "tenant1");
    const now = tenantResources(rename, "tenant-one");
    expect(now).toHaveLength(old.length);
    const oldByUrn = new Map(old.map((r) => [r.urn, r]));
    const claimed = new Map<string, string>(); // old URN → new URN
    for (const r of now) {
      const matches = [r.urn, ...aliasUrns(r)].filter((u) => oldByUrn.has(u));
      expect(matches, `${r.type} ${r.name}`).toHaveLength(1);
      expect(claimed.has(matches[0]!), `two resources claim ${matches[0]}`).toBe(false);
      claimed.set(matches[0]!, r.urn);
    }
    expect([...claimed.keys()].sort()).toEqual([...oldByUrn.keys()].sort());
    const toOld = new Map([...claimed].map(([o, n]) => [n, o]));
    // Under mocks a password's value comes from its name; the engine keeps an aliased one's
    // state, so the renamed tenant's values stand for the old ones.
    const renamedValue = new Map<string, string>();
    for (const r of now.filter((x) => x.type === T.password)) {
      const oldName = oldByUrn.get(toOld.get(r.urn)!)!.name;
      for (const encode of [(v: string) => v, (v: string) => Buffer.from(v).toString("base64")]) {
        renamedValue.set(encode(mockPasswordResult(r.name)), encode(mockPasswordResult(oldName)));
      }
    }
    const asBefore = (inputs: Record<string, unknown>): Record<string, unknown> => {
      let text = JSON.stringify(inputs);
      for (const [now, then] of renamedValue) text = text.replaceAll(now, then);
      return JSON.parse(text) as Record<string, unknown>;
    };
    for (const r of now) {
      const before = oldByUrn.get(toOld.get(r.urn)!)!;
      const inputs = asBefore(r.inputs);
      const previous = { ...before.inputs };
      if (r.type === T.dns) {
        // The record's comment names the tenant: an update in place (not ForceNew).
        expect(inputs.comment).toBe("tenantry: tenant tenant-one");
        delete inputs.comment;
        delete previous.comment;
      }
      expect(inputs, `${r.type} ${r.name}`).toEqual(previous);
      expect([r.provider, r.retainOnDelete, r.deleteBeforeReplace]).toEqual([
        before.provider,
        before.retainOnDelete,
        before.deleteBeforeReplace,
      ]);
      // Dependencies point at the same resources (under their old URNs).
      expect(r.dependencies.map((d) => toOld.get(d) ?? d).sort()).toEqual(
        [...before.dependencies].sort(),
      );
    }
    // Objects on the host keep the old name: containers, volumes, network, site file.
    // (A rolling service's generation keeps its old name too: the rename changes nothing it runs.)
    const names = now.filter((r) => r.type === T.container).map((r) => r.inputs.name);
    const oldNames = old.filter((r) => r.type === T.container).map((r) => r.inputs.name);
    expect(names.sort()).toEqual(oldNames.sort());
    expect(names).toEqual(
      expect.arrayContaining(["tenant1-backend", "tenant1-edge", "tenant1-redis"]),
    );
    expect(names.find((n) => String(n).startsWith("tenant1-frontend"))).toMatch(
      /^tenant1-frontend-[0-9a-f]{6}$/,
    );
    const outputs = rename.run!.outputs.tenants as Record<string, unknown>;
    expect(Object.keys(outputs)).toContain("tenant-one");
    expect(Object.keys(outputs)).not.toContain("tenant1");
  });

  it("leaves the other tenants byte-identical through every state change of one", () => {
    const others = (run: ChildResult) =>
      ["markplus", "company2"]
        .flatMap((t) => tenantResources(run, t))
        .map((r) => JSON.stringify([r.urn, r.inputs, r.dependencies]));
    for (const run of [rename, suspended, decommissioned, reactivated])
      expect(others(run)).toEqual(others(base));
  });

  it("suspends by start/mustRun false on the same containers, the maintenance page and a stop step", () => {
    const before = tenantResources(base, "tenant1");
    const after = tenantResources(suspended, "tenant1");
    for (const c of after.filter((r) => r.type === T.container)) {
      const { start, mustRun, ...rest } = c.inputs;
      expect([start, mustRun]).toEqual([false, false]);
      expect(rest).toEqual(before.find((b) => b.urn === c.urn)!.inputs);
    }
    const added = after.filter((r) => !before.some((b) => b.urn === r.urn)).map((r) => r.name);
    expect(added.sort()).toEqual(["tenant1-maintenance", "tenant1-suspend"]);
    const site = after.find((r) => r.name === "tenant1-site")!;
    const stdin = reveal(site.inputs.stdin) as string;
    expect(stdin).toContain("return 503;");
    expect(stdin).toContain("add_header Retry-After 3600 always;");
    expect(site.dependencies).toContain(after.find((r) => r.name === "tenant1-maintenance")!.urn);
    // The host's one reload runs again (its trigger changes); the bootstrap does not.
    const trigger = (run: ChildResult, name: string) =>
      JSON.stringify(run.run!.resources.find((r) => r.name === name)!.inputs.triggers);
    expect(trigger(suspended, "vps1-nginx-reload")).not.toBe(trigger(base, "vps1-nginx-reload"));
    expect(
      (suspended.run!.outputs.tenants as Record<string, { state?: string }>).tenant1!.state,
    ).toBe("suspended");
  });

  it("decommissions: volumes, secrets and the backup key stay, a final backup with the secrets; re-activation gives back the same resources", () => {
    const before = tenantResources(base, "tenant1");
    const after = tenantResources(decommissioned, "tenant1");
    const kept = (rs: RecordedResource[], type: string) =>
      rs.filter((r) => r.type === type).map((r) => JSON.stringify([r.urn, r.inputs]));
    for (const type of [T.volume, T.password])
      expect(kept(after, type)).toEqual(kept(before, type));
    expect(kept(after, T.password).length).toBe(3); // two secrets and the backup key
    for (const type of [T.container, T.network, T.dns]) expect(kept(after, type)).toEqual([]);
    expect(after.some((r) => r.name === "tenant1-site")).toBe(false);
    const final = after.find((r) => r.name === "tenant1-final-backup")!;
    expect(isSecret(final.inputs.stdin)).toBe(true);
    expect(Object.keys(JSON.parse(reveal(final.inputs.stdin) as string) as object).sort()).toEqual([
      "DB_PASSWORD",
      "REDIS_TOKEN",
    ]);
    expect(final.dependencies).toContain(after.find((r) => r.name === "tenant1-backup")!.urn);
    const outputs = decommissioned.run!.outputs.tenants as Record<
      string,
      { state?: string; retained?: unknown }
    >;
    expect(outputs.tenant1).toMatchObject({
      state: "decommissioned",
      retained: {
        volumes: ["tenant1-backend-data", "tenant1-edge-data", "tenant1-redis-data"],
        backups: ["/var/lib/tenantry/backups/tenant1"],
        purge: "npx tenantry purge tenant1 --yes",
      },
    });
    // Back to active: exactly what it had, so the engine keeps every secret it generated.
    const print = (run: ChildResult) =>
      tenantResources(run, "tenant1")
        .map((r) => JSON.stringify([r.urn, r.inputs]))
        .sort();
    expect(print(reactivated)).toEqual(print(base));
  });

  it("runs an init step after the containers, re-run only by a changed definition, its secret an output", () => {
    const step = (run: ChildResult) =>
      run.run!.resources.find((r) => r.name === "markplus-init-admin")!;
    const s = step(init);
    const containers = init.run!.resources.filter(
      (r) => r.type === T.container && r.name.startsWith("markplus-"),
    );
    for (const c of containers) expect(s.dependencies).toContain(c.urn);
    expect(isSecret(s.inputs.stdin)).toBe(true);
    const env = reveal(s.inputs.stdin) as string;
    const password = /^ADMIN_PASSWORD=(.+)$/m.exec(env)![1]!;
    expect(env).toContain("TENANTRY_DOMAIN=mcoder.example.com\n");
    expect(JSON.stringify([s.inputs.create, s.inputs.update, s.inputs.triggers])).not.toContain(
      password,
    );
    expect(s.inputs.update).toBeDefined();
    expect(s.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
    // The trigger follows the definition, not the environment.
    expect(step(initMoved).inputs.triggers).toEqual(s.inputs.triggers);
    expect(reveal(step(initMoved).inputs.stdin)).not.toEqual(env);
    expect(step(initChanged).inputs.triggers).not.toEqual(s.inputs.triggers);
    // Kept out of the plain stack outputs (lifecycleOutputs.test.ts reads the secret one).
    expect(JSON.stringify(init.run!.outputs.tenants)).not.toContain(password);
  });
});
