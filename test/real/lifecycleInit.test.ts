// First-run (init) steps on a real host: the program's init command runs over SSH (the runner:
// pulumi-command's behaviour) inside the tenant's real container once it is healthy, with its
// secret and domain as environment from a 0600 file, never in a command line; an apply that
// changes nothing runs nothing, one that changes only the environment runs the no-op update,
// and a changed definition runs it again with the marker of the previous run.
import { beforeAll, expect, it } from "vitest";
import { T } from "../program/helpers";
import { useTestHost } from "../support/fixture";
import {
  applyCommands,
  commandOp,
  edit,
  find,
  importNotesImage,
  lifecycleManifest,
} from "../support/lifecycle";
import { describeReal } from "../support/prereq";
import { eventually } from "../support/proc";
import {
  applyTenant,
  dockerOverSsh,
  evaluateFor,
  resource,
  runRecorded,
  type EvaluatedProgram,
} from "../support/program";
import { reveal } from "../program/helpers";

describeReal("init steps on a real host", ["sqlite3"], () => {
  const t = useTestHost([], { bootstrap: false });
  let first: EvaluatedProgram;

  const initLog = async (): Promise<string> =>
    (await t.host.docker(["exec", "acme-web", "cat", "/data/init.log"])).stdout;
  /** The password the mocks generated for acme, as the init step's stdin carries it. */
  const adminPassword = (p: EvaluatedProgram): string => {
    const stdin = reveal(resource(p, T.command, "acme-init-admin").inputs.stdin) as string;
    return /^ADMIN_PASSWORD=(.*)$/m.exec(stdin)![1]!;
  };

  beforeAll(async () => {
    await importNotesImage(t.host, ["tenantry-test/notes:1"]);
    first = await evaluateFor(t.host, lifecycleManifest(t.host));
    const bootstrap = await runRecorded(t.host, resource(first, T.command, "vps1-bootstrap"));
    expect(bootstrap.failure).toBeUndefined();
    await applyTenant(first, "acme", dockerOverSsh(t.host, first));
  }, 180_000);

  it("runs once the container is healthy, with its secret and domain in env, never on a command line", async () => {
    const password = adminPassword(first);
    expect(password).toMatch(/^mock[0-9a-f]{28}$/);
    const create = resource(first, T.command, "acme-init-admin").inputs.create as string;
    expect(create).not.toContain(password);

    // While the step runs (its command sleeps 3 s), no process on the host shows the secret.
    const running = applyCommands(t.host, undefined, first, ["acme-init-admin"]);
    const seen: string[] = [];
    await eventually(
      "the init command to run inside the container",
      async () => {
        const ps = await t.host.execOk("ps", ["-eo", "args"]);
        seen.push(ps);
        return ps.includes("/data/init.log") ? true : undefined;
      },
      60_000,
    );
    for (let i = 0; i < 5; i++) seen.push(await t.host.execOk("ps", ["-eo", "args"]));
    const [applied] = await running;
    expect(applied!.op).toBe("create");
    expect(applied!.result!.stdout).toContain("admin created");
    expect(applied!.result!.stdout).toMatch(
      /tenantry: init step admin of tenant acme done \([0-9a-f]{16}\)\n$/,
    );
    for (const ps of seen) expect(ps).not.toContain(password);
    // It ran after the health check passed, and saw what the program gave it.
    expect(await initLog()).toBe(`acme.example.com ${password} first\n`);
    const health = await t.host.dockerOk([
      "inspect",
      "--format",
      "{{.State.Health.Status}}",
      "acme-web",
    ]);
    expect(health.trim()).toBe("healthy");
    // The env file is gone; the marker holds the definition's id.
    const id = resource(first, T.command, "acme-init-admin").inputs.triggers as string[];
    expect(await t.host.execOk("cat", ["/var/lib/tenantry/tenants/acme/init/admin"])).toBe(
      `${id[0]}\n`,
    );
  }, 120_000);

  it("runs nothing on a second apply, and only the no-op update when just its environment changes", async () => {
    const again = await evaluateFor(t.host, lifecycleManifest(t.host));
    expect(
      commandOp(
        resource(first, T.command, "acme-init-admin"),
        resource(again, T.command, "acme-init-admin"),
      ),
    ).toBe("none");
    expect(await applyCommands(t.host, first, again, ["acme-init-admin"])).toEqual([
      { name: "acme-init-admin", op: "none" },
    ]);

    const moved = await evaluateFor(
      t.host,
      lifecycleManifest(t.host, (m) =>
        edit(m, "domain: acme.example.com", "domain: notes.acme.example.com"),
      ),
    );
    const [applied] = await applyCommands(t.host, first, moved, ["acme-init-admin"]);
    expect(applied!.op).toBe("update");
    expect(applied!.result!.stdout).toMatch(/init step admin of tenant acme unchanged/);
    expect((await initLog()).split("\n").filter(Boolean)).toHaveLength(1);
  }, 60_000);

  it("runs again when its definition changes, and tells the command what ran before", async () => {
    const changed = await evaluateFor(
      t.host,
      lifecycleManifest(t.host, (m) =>
        edit(m, 'sleep 3 && echo "admin created"', 'echo "admin created v2"'),
      ),
    );
    const before = resource(first, T.command, "acme-init-admin");
    const after = resource(changed, T.command, "acme-init-admin");
    expect(commandOp(before, after)).toBe("replace");
    const [applied] = await applyCommands(t.host, first, changed, ["acme-init-admin"]);
    expect(applied!.result!.stdout).toContain("admin created v2");
    const previousId = (before.inputs.triggers as string[])[0];
    expect((await initLog()).split("\n").filter(Boolean)).toEqual([
      `acme.example.com ${adminPassword(first)} first`,
      `acme.example.com ${adminPassword(changed)} ${previousId}`,
    ]);
  }, 60_000);

  it("fails the step with the command's own output and keeps the marker of the last good run", async () => {
    const failing = await evaluateFor(
      t.host,
      lifecycleManifest(t.host, (m) =>
        edit(m, 'sleep 3 && echo "admin created"', "echo boom-$TENANTRY_TENANT >&2 && exit 3"),
      ),
    );
    const r = find(failing, T.command, "acme-init-admin")!;
    const result = await runRecorded(t.host, r);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("boom-acme");
    expect(result.stderr).toContain(
      "tenantry: init step admin of tenant acme failed (exit 3, output above); fix it and run pulumi up again",
    );
    // The failed run left the marker of the last successful one.
    const changedId = await t.host.execOk("cat", ["/var/lib/tenantry/tenants/acme/init/admin"]);
    expect(changedId.trim()).not.toBe((r.inputs.triggers as string[])[0]);
  }, 60_000);

  it("refuses to run in a container that is not running, saying why", async () => {
    await t.host.dockerOk(["stop", "--time", "1", "acme-web"]);
    const result = await runRecorded(t.host, resource(first, T.command, "acme-init-admin"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /tenantry: init step admin of tenant acme: container acme-web is not running \(exited \S+\); init runs when the tenant is active/,
    );
  }, 60_000);
});
