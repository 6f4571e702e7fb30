// Backups on a real host with Debian's restic: the program's backup step installs the tenant's
// key and spec (0600; the code that reads it is the entry point's) and repository, the host step
// its nightly schedule; `tenantry backup` and
// `tenantry restore` run over SSH as a user runs them. A round trip with a SQLite database being
// written to (dumped with sqlite3 .backup, put back as the file) and files compared by checksum;
// retention by date; a repository that cannot be read without its key; an sftp offsite copy.
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { reveal, T } from "../program/helpers";
import { tenantry } from "../cli/run";
import { useTestHost } from "../support/fixture";
import { edit, importNotesImage, lifecycleManifest, runText } from "../support/lifecycle";
import { describeReal } from "../support/prereq";
import {
  applyTenant,
  dockerOverSsh,
  evaluateFor,
  resource,
  runRecorded,
  type EvaluatedProgram,
} from "../support/program";
import { evaluate } from "../program/helpers";
import { writeFileSync } from "node:fs";

const REPO = "/var/lib/tenantry/backups/acme";
const KEY = "/var/lib/tenantry/tenants/acme/key";
const SPEC = "/var/lib/tenantry/tenants/acme/spec";
const MARKER = "plaintext-marker-7f3a9c";

describeReal("backups and restores on a real host", ["restic", "sqlite3"], () => {
  const t = useTestHost([], { bootstrap: false });
  let program: EvaluatedProgram;
  let manifestFile: string;

  const inWeb = (script: string) => t.host.dockerOk(["exec", "acme-web", "sh", "-c", script]);
  const restic = (args: string[], password = KEY) =>
    t.host.exec("restic", ["-r", REPO, "--password-file", password, "--no-cache", ...args]);
  const cli = (...args: string[]) =>
    tenantry(t.host.dir, ...args, "-f", manifestFile, "-i", t.host.keyPath);
  const checksums = () =>
    inWeb('cd /files && find . -type f | sort | while read -r f; do sha256sum "$f"; done');
  const rows = async () =>
    Number(
      (
        await inWeb("sqlite3 -cmd '.timeout 20000' /data/app.db 'select count(*) from notes'")
      ).trim(),
    );

  beforeAll(async () => {
    await importNotesImage(t.host, ["tenantry-test/notes:1"]);
    program = await evaluateFor(t.host, lifecycleManifest(t.host));
    manifestFile = join(t.host.dir, "tenants.yaml");
    expect(
      (await runRecorded(t.host, resource(program, T.command, "vps1-bootstrap"))).failure,
    ).toBeUndefined();
    await applyTenant(program, "acme", dockerOverSsh(t.host, program));
  }, 180_000);

  it("installs the tenant's key (0600, from stdin only), spec and repository, and the host's nightly schedule", async () => {
    const setup = resource(program, T.command, "acme-backup");
    const result = await runRecorded(t.host, setup);
    expect(result.failure, result.stderr).toBeUndefined();
    expect(result.stdout).toBe(
      `tenantry: backups of tenant acme: repository ${REPO} (created); nightly\n`,
    );
    const frames = reveal(setup.inputs.stdin) as string;
    const key = Buffer.from(/^key (\S+)$/m.exec(frames)![1]!, "base64").toString();
    expect(key).toMatch(/^mock[0-9a-f]{28}$/);
    expect(setup.inputs.create as string).not.toContain(key);
    expect(
      await t.host.execOk("stat", ["-c", "%a %U", KEY, "/var/lib/tenantry/tenants/acme"]),
    ).toBe("600 root\n700 root\n");
    expect(await t.host.execOk("cat", [KEY])).toBe(key);
    // The spec is the stdin's, as checked; no code of the tenant's is installed.
    const spec = Buffer.from(/^spec (\S+)$/m.exec(frames)![1]!, "base64").toString();
    expect(await t.host.execOk("cat", [SPEC])).toBe(spec);
    expect(await t.host.execOk("stat", ["-c", "%a %U", SPEC])).toBe("600 root\n");
    expect((await t.host.exec("test", ["-e", "/var/lib/tenantry/tenants/acme/tool"])).code).toBe(1);
    // Running it again changes nothing and keeps the repository.
    expect((await runRecorded(t.host, setup)).stdout).toContain(`${REPO} (kept); nightly`);

    const schedule = await runRecorded(
      t.host,
      resource(program, T.command, "vps1-backup-schedule"),
    );
    expect(schedule.failure, schedule.stderr).toBeUndefined();
    // No systemd in the test host: the cron file, at the manifest's 02:30.
    expect(schedule.stdout).toMatch(
      /^tenantry: host vps1: nightly backups at 02:30 \(\/etc\/cron\.d\/tenantry-backup\)/,
    );
    expect(await t.host.execOk("grep", ["-v", "^#", "/etc/cron.d/tenantry-backup"])).toContain(
      "30 2 * * * root /usr/local/lib/tenantry/backup-all >>/var/log/tenantry-backup.log 2>&1\n",
    );
  }, 60_000);

  it("round-trips the volumes: a SQLite database being written to, files by checksum, a loaded dump", async () => {
    await inWeb(
      `mkdir -p /files/sub && echo ${MARKER} >/files/a.txt && dd if=/dev/urandom of=/files/sub/b.bin bs=1024 count=300 2>/dev/null`,
    );
    await inWeb(
      "sqlite3 /data/app.db 'create table notes(id integer primary key, body text)' && for i in $(seq 1 200); do echo \"insert into notes(body) values('n$i');\"; done | sqlite3 /data/app.db",
    );
    await t.host.dockerOk(["exec", "acme-cache", "sh", "-c", "echo state-1 >/state/cache.rdb"]);
    const before = await checksums();
    // A writer inserts rows all through the backup.
    await t.host.dockerOk([
      "exec",
      "-d",
      "acme-web",
      "sh",
      "-c",
      "i=0; while [ ! -f /tmp/stop ]; do i=$((i+1)); sqlite3 -cmd '.timeout 20000' /data/app.db \"insert into notes(body) values('w$i')\" 2>/dev/null; done",
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const atStart = await rows();
    const backup = await cli("backup", "acme").finally(() => inWeb("touch /tmp/stop"));
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(
      new RegExp(
        `^tenantry: backup of tenant acme: snapshot [0-9a-f]{8} \\(\\d+ bytes\\) in ${REPO}\\n$`,
      ),
    );
    const atEnd = await rows();
    expect(atEnd).toBeGreaterThan(atStart); // it really was written to meanwhile

    // The snapshot holds the dump, not the live database file.
    const listed = (await restic(["ls", "latest"])).stdout;
    expect(listed).toContain("/run/tenantry/stage/dumps/web\n");
    expect(listed).toContain("/run/tenantry/stage/volumes/web/files/sub/b.bin\n");
    expect(listed).not.toContain("/run/tenantry/stage/volumes/web/data/app.db");

    await inWeb("rm -rf /files/* /data/* && echo junk >/files/junk");
    await t.host.dockerOk(["exec", "acme-cache", "sh", "-c", "rm -f /state/cache.rdb"]);
    const refused = await cli("restore", "acme");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /volumes not empty: acme-web-files; a restore replaces what they hold with snapshot [0-9a-f]{8}: run again with --yes/,
    );
    expect(await inWeb("cat /files/junk")).toBe("junk\n"); // refused: nothing touched

    const started = await t.host.dockerOk([
      "inspect",
      "--format",
      "{{.State.StartedAt}}",
      "acme-web",
    ]);
    const restored = await cli("restore", "acme", "--yes");
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(
      /^tenantry: restored tenant acme from snapshot [0-9a-f]{8}; containers started again: acme-web acme-cache\n$/,
    );
    expect(
      await t.host.dockerOk(["inspect", "--format", "{{.State.StartedAt}}", "acme-web"]),
    ).not.toBe(started);
    expect(await checksums()).toBe(before);
    expect((await inWeb("ls /files")).split("\n")).not.toContain("junk");
    expect((await inWeb("sqlite3 /data/app.db 'pragma integrity_check'")).trim()).toBe("ok");
    const restoredRows = await rows();
    expect(restoredRows).toBeGreaterThanOrEqual(atStart);
    expect(restoredRows).toBeLessThanOrEqual(atEnd);
    // The cache's dump went back through its restore command, in the started container.
    expect(await t.host.dockerOk(["exec", "acme-cache", "cat", "/state/cache.rdb"])).toBe(
      "state-1\n",
    );
  }, 180_000);

  it("keeps only the newest snapshot of each of the last keepDaily days", async () => {
    const day = (daysAgo: number, hour: number) => {
      const d = new Date(Date.now() - daysAgo * 86_400_000);
      d.setUTCHours(hour, 0, 0, 0);
      return d.toISOString().replace("T", " ").slice(0, 19);
    };
    await t.host.execOk("mkdir", ["-p", "/run/tenantry/stage"]);
    for (const [ago, hour] of [
      [6, 3],
      [5, 3],
      [4, 3],
      [2, 3],
      [2, 4],
      [1, 3],
    ] as const) {
      const made = await restic([
        "backup",
        "--host",
        "tenantry",
        "--tag",
        "tenantry",
        "--time",
        day(ago, hour),
        "/run/tenantry/stage",
      ]);
      expect(made.code, made.stderr).toBe(0);
    }
    const backup = await cli("backup", "acme");
    expect(backup.code, backup.stderr).toBe(0);
    const snapshots = JSON.parse((await restic(["snapshots", "--json"])).stdout) as Array<{
      time: string;
    }>;
    const days = snapshots.map((s) => new Date(s.time).toISOString().slice(0, 10)).sort();
    // keepDaily 3 in the manifest: today, yesterday and two days ago (its later one).
    expect(days).toEqual([day(2, 0), day(1, 0), day(0, 0)].map((d) => d.slice(0, 10)));
    expect(
      snapshots
        .filter((s) => new Date(s.time).toISOString().startsWith(day(2, 0).slice(0, 10)))
        .map((s) => new Date(s.time).getUTCHours()),
    ).toEqual([4]);
  }, 120_000);

  it("cannot be read without its key: a wrong key is refused and no plaintext is on disk", async () => {
    await t.host.execOk("sh", ["-c", "echo wrong-key >/root/wrong-key"]);
    const wrong = await restic(["snapshots"], "/root/wrong-key");
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("wrong password");
    const grep = await t.host.exec("grep", ["-r", "-l", MARKER, REPO]);
    expect(grep.code).toBe(1); // no file of the repository holds the marker
    expect(await inWeb("cat /files/a.txt")).toBe(`${MARKER}\n`); // the volume does
  }, 60_000);

  it("runs every scheduled tenant from the timer's runner and records the outcome for status", async () => {
    const run = await t.host.exec("/usr/local/lib/tenantry/backup-all", []);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/tenantry: backup of tenant acme: snapshot [0-9a-f]{8}/);
    const status = await t.host.execOk("cat", ["/var/lib/tenantry/status/acme"]);
    expect(status).toMatch(
      /^tenant=acme\ntime=\S+\nresult=ok\nsnapshot=[0-9a-f]{8}\nbytes=\d+\noffsite=none\nerror=\n/,
    );
    expect(await t.host.execOk("stat", ["-c", "%a", "/var/lib/tenantry/status/acme"])).toBe(
      "644\n",
    );
  }, 60_000);

  it("copies every backup offsite over sftp to a pinned host, with the key from stack secrets", async () => {
    // The offsite server is this host's own sshd, as the deploy user, with its key.
    await t.host.execOk("sh", ["-c", "install -d -o deploy -g deploy /home/deploy/offsite"]);
    const text = lifecycleManifest(t.host, (m) =>
      edit(
        m,
        "      keepDaily: 3\n",
        `      keepDaily: 3\n      offsite:\n        url: sftp:deploy@127.0.0.1:/home/deploy/offsite\n        hostKey: ${t.host.hostKey}\n`,
      ),
    );
    const file = join(t.host.dir, "offsite.yaml");
    writeFileSync(file, text);
    const evaluated = await evaluate(file, [
      "--config",
      `tenantry:sshKeyPath=${t.host.keyPath}`,
      "--config",
      `tenantry:backup.vps1.sshKey=${t.host.privateKey}`,
    ]);
    expect(evaluated.ok, evaluated.stderr).toBe(true);
    const offsite: EvaluatedProgram = { resources: evaluated.run!.resources };
    const setup = resource(offsite, T.command, "acme-backup");
    expect(setup.inputs.create as string).not.toContain("PRIVATE KEY");
    const installed = await runText(t.host, setup, "create");
    expect(installed.failure, installed.stderr).toBeUndefined();
    expect(installed.stdout).toContain(
      ", offsite sftp:deploy@127.0.0.1:/home/deploy/offsite/acme; nightly",
    );
    expect(
      await t.host.execOk("stat", ["-c", "%a", "/var/lib/tenantry/tenants/acme/offsite/sshKey"]),
    ).toBe("600\n");

    const backup = await tenantry(t.host.dir, "backup", "acme", "-f", file, "-i", t.host.keyPath);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(
      /in \/var\/lib\/tenantry\/backups\/acme and sftp:deploy@127\.0\.0\.1:\/home\/deploy\/offsite\/acme\n$/,
    );
    const listed = await t.host.exec("/usr/local/sbin/tenantry-root", [
      "backup-tool",
      "acme",
      "snapshots",
      "--offsite",
      "--json",
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(1);
    expect(
      await t.host.execOk("sh", ["-c", "sed -n 's/^offsite=//p' /var/lib/tenantry/status/acme"]),
    ).toBe("ok\n");
  }, 120_000);
});
