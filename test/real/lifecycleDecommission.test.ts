// Off-boarding on a real host: `state: decommissioned` takes a final backup (the tenant's
// secrets in it, encrypted) before its containers, network and site go; its volumes, backups
// and key stay, and re-activating it brings its data back. Purge deletes them only when asked,
// only for a decommissioned tenant, and never while its containers exist.
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { reveal, T } from "../program/helpers";
import { tenantry } from "../cli/run";
import { useTestHost } from "../support/fixture";
import {
  applyCommands,
  edit,
  find,
  importNotesImage,
  lifecycleManifest,
} from "../support/lifecycle";
import { describeReal } from "../support/prereq";
import {
  applyTenant,
  dockerOverSsh,
  evaluateFor,
  resource,
  type EvaluatedProgram,
} from "../support/program";

const REPO = "/var/lib/tenantry/backups/acme";
const KEY = "/var/lib/tenantry/tenants/acme/key";

describeReal("decommissioning and purging a tenant on a real host", ["restic", "sqlite3"], () => {
  const t = useTestHost([], { bootstrap: false });
  let active: EvaluatedProgram;
  let decommissioned: EvaluatedProgram;
  let manifestFile: string;

  const decommissionedManifest = () =>
    lifecycleManifest(t.host, (m) =>
      edit(
        m,
        "    domain: acme.example.com\n",
        "    domain: acme.example.com\n    state: decommissioned\n",
      ),
    );
  const restic = (args: string[]) =>
    t.host.exec("restic", ["-r", REPO, "--password-file", KEY, "--no-cache", ...args]);
  const exists = async (kind: "container" | "network" | "volume", name: string) =>
    (await t.host.docker([kind, "inspect", name])).code === 0;
  /** A file in a volume, read on the host (no container needed). */
  const inVolume = async (volume: string, file: string) => {
    const mp = (
      await t.host.dockerOk(["volume", "inspect", "--format", "{{.Mountpoint}}", volume])
    ).trim();
    return (await t.host.exec("cat", [join(mp, file)])).stdout;
  };
  const cli = (...args: string[]) =>
    tenantry(t.host.dir, ...args, "-f", manifestFile, "-i", t.host.keyPath);

  /** What the provider does for a container or network that left the program: stop, remove. */
  const deleteDockerObjects = async () => {
    for (const c of ["acme-web", "acme-cache"]) await t.host.dockerOk(["rm", "-f", c]);
    await t.host.dockerOk(["network", "rm", "acme-net"]);
  };

  beforeAll(async () => {
    await importNotesImage(t.host, ["tenantry-test/notes:1"]);
    active = await evaluateFor(t.host, lifecycleManifest(t.host));
    decommissioned = await evaluateFor(t.host, decommissionedManifest());
    manifestFile = join(t.host.dir, "tenants.yaml"); // evaluateFor wrote the decommissioned one
    const docker = dockerOverSsh(t.host, active);
    await applyCommands(t.host, undefined, active, ["vps1-bootstrap", "vps1-backup-schedule"]);
    for (const tenant of ["acme", "globex"]) await applyTenant(active, tenant, docker);
    await applyCommands(t.host, undefined, active, [
      "acme-site",
      "globex-site",
      "vps1-nginx-reload",
      "acme-backup",
      "globex-backup",
    ]);
    await t.host.dockerOk(["exec", "acme-web", "sh", "-c", "echo kept >/files/proof"]);
    await t.host.dockerOk(["exec", "acme-cache", "sh", "-c", "echo state-1 >/state/cache.rdb"]);
    await t.expectAnswer("acme.example.com", "200 notes Acme\n");
  }, 180_000);

  it("keeps volumes and secrets in the program and drops containers, network, site, DNS records and init steps", () => {
    const names = (p: EvaluatedProgram, type: string, tenant: string) =>
      p.resources
        .filter((r) => r.type === type && r.name.startsWith(`${tenant}-`))
        .map((r) => `${r.name} ${JSON.stringify(r.inputs)}`)
        .sort();
    for (const type of [T.volume, T.password])
      expect(names(decommissioned, type, "acme")).toEqual(names(active, type, "acme"));
    for (const type of [T.container, T.network, T.dns])
      expect(names(decommissioned, type, "acme")).toEqual([]);
    expect(find(decommissioned, T.command, "acme-site")).toBeUndefined();
    // Init steps stay, unchanged: nothing runs, and re-activation does not run them again.
    const init = (p: EvaluatedProgram) =>
      JSON.stringify(find(p, T.command, "acme-init-admin")!.inputs);
    expect(init(decommissioned)).toBe(init(active));
    expect(find(decommissioned, T.volume, "acme-web-files")!.retainOnDelete).toBe(true);
  });

  it("takes a final backup with the secrets in it, then removes containers, network and site; volumes stay", async () => {
    const applied = await applyCommands(t.host, active, decommissioned, [
      "acme-backup",
      "acme-final-backup",
      "vps1-nginx-reload",
      "globex-site",
    ]);
    expect(applied.map((a) => [a.name, a.op])).toEqual([
      ["acme-backup", "update"],
      ["acme-final-backup", "create"],
      ["vps1-nginx-reload", "replace"],
      ["globex-site", "none"],
    ]);
    expect(applied[0]!.result!.stdout).toContain("not scheduled (decommissioned)");
    expect(applied[1]!.result!.stdout).toMatch(
      /^tenantry: final backup of tenant acme: snapshot [0-9a-f]{8} \(\d+ bytes\) in \/var\/lib\/tenantry\/backups\/acme\n$/,
    );
    // Deletes run last, with the old inputs: the site, then the containers and the network.
    expect(
      (await applyCommands(t.host, active, decommissioned, ["acme-site", "acme-init-admin"])).map(
        (a) => a.op,
      ),
    ).toEqual(["delete", "none"]);
    await deleteDockerObjects();

    const finals = JSON.parse(
      (await restic(["snapshots", "--tag", "final", "--json"])).stdout,
    ) as unknown[];
    expect(finals).toHaveLength(1);
    const secrets = JSON.parse(
      (await restic(["dump", "latest", "/run/tenantry/stage/secrets.json"])).stdout,
    ) as Record<string, string>;
    const sent = JSON.parse(
      reveal(resource(decommissioned, T.command, "acme-final-backup").inputs.stdin) as string,
    ) as Record<string, string>;
    expect(Object.keys(secrets).sort()).toEqual(["ADMIN_PASSWORD", "SECRET_KEY"]);
    expect(secrets).toEqual(sent);
    expect(
      (await restic(["dump", "latest", "/run/tenantry/stage/volumes/web/files/proof"])).stdout,
    ).toBe("kept\n");

    expect(await exists("container", "acme-web")).toBe(false);
    expect(await exists("network", "acme-net")).toBe(false);
    await t.expectAnswer("acme.example.com", "closed without response");
    await t.expectAnswer("globex.example.com", "200 notes Globex\n");
    expect(await inVolume("acme-web-files", "proof")).toBe("kept\n");
    expect(await inVolume("acme-cache-state", "cache.rdb")).toBe("state-1\n");
    expect(
      (await t.host.exec("test", ["-e", "/var/lib/tenantry/tenants/acme/scheduled"])).code,
    ).toBe(1);
    expect(
      (await t.host.exec("test", ["-e", "/var/lib/tenantry/tenants/globex/scheduled"])).code,
    ).toBe(0);
  }, 120_000);

  it("comes back with its data when made active again", async () => {
    await applyTenant(active, "acme", dockerOverSsh(t.host, active));
    await applyCommands(t.host, decommissioned, active, [
      "acme-backup",
      "acme-site",
      "vps1-nginx-reload",
    ]);
    await t.expectAnswer("acme.example.com", "200 notes Acme\n");
    expect(await t.host.dockerOk(["exec", "acme-web", "cat", "/files/proof"])).toBe("kept\n");
    expect(
      (await t.host.exec("test", ["-e", "/var/lib/tenantry/tenants/acme/scheduled"])).code,
    ).toBe(0);
    // And off-boarded again, for the purge below: a second final backup, the first one kept.
    await applyCommands(t.host, active, decommissioned, [
      "acme-backup",
      "acme-final-backup",
      "acme-site",
    ]);
    await deleteDockerObjects();
    expect(
      JSON.parse((await restic(["snapshots", "--tag", "final", "--json"])).stdout),
    ).toHaveLength(2);
  }, 120_000);

  it("purges only a decommissioned tenant, only with --yes, never while a container of it exists", async () => {
    const activeOne = await cli("purge", "globex", "--yes");
    expect(activeOne.code).toBe(1);
    expect(activeOne.stderr).toContain(
      "tenant globex is active: purge only deletes a decommissioned tenant's data",
    );

    const unasked = await cli("purge", "acme");
    expect(unasked.code).toBe(1);
    expect(unasked.stderr).toContain(
      `purge deletes, for good: volumes acme-web-data, acme-web-files, acme-cache-state; backups ${REPO}; the tenant's backup key. Run it with --yes: npx tenantry purge acme --yes`,
    );

    await t.host.dockerOk(["create", "--name", "acme-web", "tenantry-test/notes:1"]);
    const early = await cli("purge", "acme", "--yes");
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(
      "container acme-web still exists: decommission the tenant first",
    );
    await t.host.dockerOk(["rm", "acme-web"]);
    for (const v of ["acme-web-data", "acme-web-files", "acme-cache-state"])
      expect(await exists("volume", v)).toBe(true);

    const purged = await cli("purge", "acme", "--yes");
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.stdout).toBe(
      `tenantry: purged tenant acme: volumes acme-web-data acme-web-files acme-cache-state; backups in ${REPO}; its key\nNow remove tenants.acme from ${manifestFile} and run pulumi up: its secrets leave the stack.\n`,
    );
    for (const v of ["acme-web-data", "acme-web-files", "acme-cache-state"])
      expect(await exists("volume", v)).toBe(false);
    expect((await t.host.exec("test", ["-e", REPO])).code).toBe(1);
    expect((await t.host.exec("test", ["-e", "/var/lib/tenantry/tenants/acme"])).code).toBe(1);
    // The other tenant keeps everything.
    expect(await exists("volume", "globex-web-files")).toBe(true);
    expect((await t.host.exec("test", ["-f", "/var/lib/tenantry/tenants/globex/key"])).code).toBe(
      0,
    );
  }, 120_000);
});
