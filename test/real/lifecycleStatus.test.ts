// `tenantry status` against a real host, as a user runs it: one SSH session per host with the
// manifest's pinned key and the deploy key; containers' state, health, restarts and memory
// against their limits, the last backup and its size, a failed backup and a stopped container as
// problems, and a host that does not answer as one line while the others still report.
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { tenantry } from "../cli/run";
import type { HostStatus } from "../../cli/commands/status";
import { useTestHost } from "../support/fixture";
import { applyCommands, edit, importNotesImage, lifecycleManifest } from "../support/lifecycle";
import { describeReal } from "../support/prereq";
import { eventually } from "../support/proc";
import { applyTenant, dockerOverSsh, evaluateFor, type EvaluatedProgram } from "../support/program";

describeReal("tenantry status on a real host", ["restic", "sqlite3"], () => {
  const t = useTestHost([], { bootstrap: false });
  let program: EvaluatedProgram;
  let manifestFile: string;
  const cli = (...args: string[]) =>
    tenantry(t.host.dir, ...args, "-f", manifestFile, "-i", t.host.keyPath);
  const sessions = () => (t.host.sshd.log().match(/Accepted publickey for deploy/g) ?? []).length;

  beforeAll(async () => {
    await importNotesImage(t.host, ["tenantry-test/notes:1"]);
    // A second host nobody answers for: the test host's address on a port nothing listens on.
    const manifest = lifecycleManifest(t.host, (m) =>
      edit(
        edit(
          m,
          "\napps:\n",
          `  vps2:\n    address: ${t.host.address}\n    port: 2222\n    user: deploy\n    hostKey: ${t.host.hostKey}\n    memoryMb: 512\n\napps:\n`,
        ),
        "\n  globex:\n",
        "\n  initech:\n    app: notes\n    plan: small\n    host: vps2\n    slot: 1\n    domain: initech.example.com\n  globex:\n",
      ),
    );
    program = await evaluateFor(t.host, manifest);
    manifestFile = join(t.host.dir, "tenants.yaml");
    const docker = dockerOverSsh(t.host, program);
    await applyCommands(t.host, undefined, program, ["vps1-bootstrap"]);
    for (const tenant of ["acme", "globex"]) await applyTenant(program, tenant, docker);
    await applyCommands(t.host, undefined, program, ["acme-backup", "globex-backup"]);
    await t.host.dockerOk(["exec", "acme-cache", "sh", "-c", "echo state-1 >/state/cache.rdb"]);
    await t.host.dockerOk(["exec", "acme-web", "sh", "-c", "echo hello >/files/a"]);
    // acme backs up; globex's cache has no state file, so its dump (cat) fails.
    expect((await cli("backup", "acme")).code).toBe(0);
    const failed = await cli("backup", "globex");
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(
      "backup of tenant globex failed; tenantry status shows it until a backup succeeds",
    );
    await t.host.dockerOk(["stop", "--time", "1", "globex-web"]);
    await eventually(
      "acme-web to be healthy",
      async () =>
        (
          await t.host.dockerOk(["inspect", "--format", "{{.State.Health.Status}}", "acme-web"])
        ).trim() === "healthy"
          ? true
          : undefined,
      90_000,
    );
  }, 240_000);

  it("reports every tenant of a host in one SSH session, and a host that does not answer in one line", async () => {
    const before = sessions();
    const status = await cli("status");
    expect(sessions() - before).toBe(1);
    expect(status.code).toBe(1);
    expect(status.stderr).toBe("");
    const lines = status.stdout.split("\n");
    expect(lines[0]).toBe(`vps1 (deploy@${t.host.address}:22)`);
    expect(lines[1]).toMatch(
      /^ {2}TENANT +STATE +SERVICE +CONTAINER +STATUS +HEALTH +RESTARTS +MEMORY +LAST BACKUP$/,
    );
    expect(lines[2]).toMatch(
      /^ {2}acme +active +web +acme-web +running +healthy +0 +\d+\.\d \/ 48\.0 MiB +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ [0-9a-f]{8}, \d+(\.\d)? kB$/,
    );
    expect(lines[3]).toMatch(/^ {18}cache +acme-cache +running +none +0 +\d+\.\d \/ 48\.0 MiB$/);
    expect(lines[4]).toMatch(
      /^ {2}globex +active +web +globex-web +exited +\S+ +0 +- \/ 48\.0 MiB +FAILED \S+ \(last ok: never\)$/,
    );
    expect(status.stdout).toContain(
      `vps2 (deploy@${t.host.address}:2222): cannot connect: ssh: connect to host ${t.host.address} port 2222: Connection refused\n`,
    );
    expect(status.stdout).toContain("problems:\n");
    expect(status.stdout).toContain("  globex: globex-web is exited, not running\n");
    expect(status.stdout).toMatch(
      / {2}globex: backup failed at \S+: the dump of service cache failed: cat: can't open '\/state\/cache\.rdb': No such file or directory; last good one: never\n/,
    );
    expect(status.stdout).not.toMatch(/^\s+at /m); // no stack trace
  }, 60_000);

  it("prints JSON for scripts, and one tenant when asked", async () => {
    const json = await cli("status", "--json");
    const { hosts } = JSON.parse(json.stdout) as { hosts: HostStatus[] };
    expect(hosts.map((h) => [h.host, h.error === undefined])).toEqual([
      ["vps1", true],
      ["vps2", false],
    ]);
    const acme = hosts[0]!.tenants.find((x) => x.tenant === "acme")!;
    const web = acme.services.find((s) => s.service === "web")!;
    expect(web).toMatchObject({
      container: "acme-web",
      status: "running",
      health: "healthy",
      restarts: 0,
      memoryLimit: 48 * 1024 * 1024,
    });
    expect(web.memoryUsed).toBeGreaterThan(0);
    expect(web.memoryUsed).toBeLessThan(web.memoryLimit);
    expect(acme.backup).toMatchObject({ result: "ok", offsite: "none" });
    expect(acme.backup!.bytes).toBeGreaterThan(0);
    expect(acme.problems).toEqual([]);

    const one = await cli("status", "acme");
    expect(one.code).toBe(0);
    expect(one.stdout).not.toContain("globex");
    expect(one.stdout).not.toContain("vps2");
  }, 60_000);
});
