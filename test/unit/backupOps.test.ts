// The backup operations of the root entry point: the spec a tenant's backup step ships (whole
// text, every field checked in JavaScript and again by the rendered entry point run with sh),
// the tool's arguments refused in both places, and an entry point that holds no tenant's value.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseManifest } from "../../manifest/load";
import { formatProblem } from "../../manifest/problems";
import type { BackupPlan } from "../../plan/backup";
import { planTenant } from "../../plan/tenant";
import {
  backupScheduleCommand,
  backupSetupCommand,
  backupSetupStdin,
  backupSpec,
  backupUnscheduleCommand,
  backupUnscheduleHostCommand,
  toolCommand,
} from "../../remote/backup";
import { entryPointText } from "../../remote/entry";
import { describeWith } from "../support/prereq";
import { shellcheck } from "../support/shellcheck";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i";

/** One tenant `zebra` (a name no operation mentions) of an app whose web service dumps. */
function plan(parts: { host?: string; web?: string } = {}): BackupPlan {
  const text = `tls: { mode: none }
hosts:
  vps1:
    address: 203.0.113.10
    user: deploy
    hostKey: ${KEY}
    memoryMb: 2048
${parts.host ?? ""}
apps:
  notes:
    services:
      web:
        image: ghcr.io/example/notes:1.0.0
        port: 8000
        route: /
        volumes: { data: /data, files: /srv/files }
${parts.web ?? ""}
plans:
  small: { memoryMb: 300, cpus: 0.5 }
tenants:
  zebra: { app: notes, plan: small, host: vps1, slot: 1, domain: zebra.example.com }
`;
  const result = parseManifest(text, "t.yaml");
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return planTenant(result.loaded.manifest, "zebra").backup;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

const sftp = plan({
  host: `    backup:\n      keepWeekly: 4\n      offsite: { url: 'sftp:backup@203.0.113.20:/srv/tenantry', port: 2222, hostKey: '${KEY}' }`,
  web: "        backup: { dump: [sh, -c, 'sqlite3 /data/app.db \".backup /dev/stdout\"'], restore: [sh, -c, 'cat >/data/app.db'], exclude: [/data/app.db, /data/app.db-wal] }",
});
const s3 = plan({
  host: "    backup:\n      repository: /srv/backups/\n      offsite: { url: 's3:https://s3.example.com/b' }",
  web: "        backup: { dump: [cat, /data/app.db], restoreTo: /data/db/app.db }",
});
const plain = plan();

describe("backup spec", () => {
  it("is one checked record a line, each command an argv of base64 words", () => {
    expect(backupSpec(sftp)).toBe(
      [
        "tenantry-backup-spec 1",
        "repository /var/lib/tenantry/backups/zebra",
        "keep 7 4 0",
        "container zebra-web",
        "volume zebra-web-data /run/tenantry/stage/volumes/web/data",
        "volume zebra-web-files /run/tenantry/stage/volumes/web/files",
        `dump web zebra-web ${b64("sh")} ${b64("-c")} ${b64('sqlite3 /data/app.db ".backup /dev/stdout"')}`,
        "exclude web /run/tenantry/stage/volumes/web/data/app.db",
        "exclude web /run/tenantry/stage/volumes/web/data/app.db-wal",
        `restore web zebra-web ${b64("sh")} ${b64("-c")} ${b64("cat >/data/app.db")}`,
        `offsite-sftp sftp:backup@203.0.113.20:/srv/tenantry/zebra backup 203.0.113.20 2222 ${KEY}`,
        "",
      ].join("\n"),
    );
    expect(backupSpec(s3)).toBe(
      [
        "tenantry-backup-spec 1",
        "repository /srv/backups/zebra",
        "keep 7 0 0",
        "container zebra-web",
        "volume zebra-web-data /run/tenantry/stage/volumes/web/data",
        "volume zebra-web-files /run/tenantry/stage/volumes/web/files",
        `dump web zebra-web ${b64("cat")} ${b64("/data/app.db")}`,
        "restore-to web zebra-web-data db/app.db",
        "offsite-s3 s3:https://s3.example.com/b/zebra",
        "",
      ].join("\n"),
    );
  });

  it("travels as the first stdin frame, before the secrets; the secrets are never in the command", () => {
    const stdin = backupSetupStdin(sftp, { key: "k1", sshKey: "-----BEGIN-----\nabc\n" });
    const lines = stdin.split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual(["spec", "key", "sshKey", ""]);
    expect(Buffer.from(lines[0]!.split(" ")[1]!, "base64").toString()).toBe(backupSpec(sftp));
    expect(backupSetupCommand("deploy", sftp, "vps1")).not.toContain("k1");
    expect(() => backupSetupStdin(sftp, { spec: "x" })).toThrow(
      /backup setup frames: spec \(valid: key, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, sshKey\)/,
    );
  });

  it.each([
    [
      "a repository in a system tree",
      { ...plain, repository: "/etc/zebra" },
      /repository "\/etc\/zebra" is not an absolute, normalised directory/,
    ],
    [
      "a repository not named after the tenant",
      { ...plain, repository: "/var/lib/tenantry/backups/other" },
      /repository \/var\/lib\/tenantry\/backups\/other does not end in \/zebra/,
    ],
    [
      "a container name with shell in it",
      { ...plain, containers: ["zebra-web;reboot"] },
      /container "zebra-web;reboot" is not a container name/,
    ],
    [
      "a restore path out of its volume",
      {
        ...s3,
        dumps: [
          { ...s3.dumps[0]!, restoreTo: { volumeName: "zebra-web-data", relative: "../../etc/x" } },
        ],
      },
      /restore-to relative "..\/..\/etc\/x" is not a relative path inside the volume/,
    ],
  ])("refuses %s before any command is built", (_name, bad, message) => {
    expect(() => backupSetupCommand("deploy", bad as BackupPlan, "vps1")).toThrow(message);
  });
});

describe("backup commands", () => {
  const entry = "/usr/local/sbin/tenantry-root";
  it.each([
    ["setup", backupSetupCommand("root", sftp, "vps1"), "backup-setup zebra nightly vps1"],
    [
      "setup, decommissioned",
      backupSetupCommand("root", { ...plain, scheduled: false, final: true }, "vps1"),
      "backup-setup zebra off vps1",
    ],
    ["unschedule", backupUnscheduleCommand("root", sftp), "backup-unschedule zebra"],
    [
      "schedule",
      backupScheduleCommand("root", "vps1", { hour: 2, minute: 5 }),
      "backup-schedule 02 05 vps1",
    ],
    ["host unschedule", backupUnscheduleHostCommand("root", "vps1"), "backup-unschedule-host vps1"],
    [
      "tool",
      toolCommand("root", "zebra", ["restore", "0123abcd", "--yes"]),
      "backup-tool zebra restore 0123abcd --yes",
    ],
  ])("%s runs one operation of the entry point", (_name, command, line) => {
    expect(command).toMatch(new RegExp(`\\nexec ${entry} ${line}'$`));
  });

  it.each([
    [["rm", "-rf", "/"], /backup-tool: action "rm" is not backup, restore, snapshots or purge/],
    [["backup", "--final;id"], /backup-tool: word "--final;id" is not --final, --yes/],
    [["restore", "$(id)"], /word "\$\(id\)" is not/],
    [["snapshots", "--json\n"], /word "--json\\n" is not/],
    [[], /action "" is not/],
  ])("refuses tool arguments %j in JavaScript", (args, message) => {
    expect(() => toolCommand("deploy", "zebra", args)).toThrow(message);
  });

  it("refuses a tenant identity that is no name", () => {
    expect(() => toolCommand("deploy", "../zebra", ["backup"])).toThrow(
      /backup-tool: identity "..\/zebra" is not a tenant's name on the host/,
    );
  });
});

describe("the entry point's backup operations", () => {
  const text = entryPointText();

  it("hold no tenant's value: names, paths, commands and URLs come from arguments and the spec", () => {
    for (const p of [sftp, s3]) {
      for (const line of backupSpec(p).split("\n").slice(1, -1)) {
        for (const word of line.split(" ").slice(1)) {
          // Words any tenant may share with the operations' own text.
          if (/^(?:\d+|web|backup|ssh-ed25519)$/.test(word)) continue;
          expect(text, word).not.toContain(word);
        }
      }
    }
    expect(text).not.toContain("zebra");
    expect(text).not.toContain("sqlite3");
    expect(text).not.toContain("203.0.113.20");
  });

  const dir = mkdtempSync(join(tmpdir(), "tenantry-backup-ops-"));
  const file = join(dir, "tenantry-root");
  writeFileSync(file, text, { mode: 0o755 });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[], stdin = "") => {
    const r = spawnSync("sh", [file, ...args], { input: stdin, encoding: "utf8" });
    return { code: r.status, stderr: r.stderr, stdout: r.stdout };
  };
  const withSpec = (spec: string, frames: Record<string, string> = { key: "k" }) =>
    [`spec ${b64(spec)}`, ...Object.entries(frames).map(([n, v]) => `${n} ${b64(v)}`), ""].join(
      "\n",
    );
  const good = backupSpec(sftp);
  const state = "/var/lib/tenantry/tenants/zebra";

  it("accepts the spec the program ships (setup then stops: no key on stdin)", () => {
    for (const p of [sftp, s3, plain]) {
      const r = run(["backup-setup", "zebra", "nightly", "vps1"], withSpec(backupSpec(p), {}));
      expect([r.code, r.stderr]).toEqual([1, "tenantry: no backup key on stdin\n"]);
    }
  });

  const marker = join(dir, "evaluated");
  it.each([
    [
      "a repository in a system tree",
      good.replace("repository /var/lib/tenantry/backups/zebra", "repository /etc/zebra"),
      "spec repository '/etc/zebra' is not an absolute, normalised directory",
    ],
    [
      "another tenant's repository",
      good.replace("backups/zebra", "backups/other"),
      "repository /var/lib/tenantry/backups/other is not tenant zebra's",
    ],
    [
      "a dot segment in the repository",
      good.replace("backups/zebra", "backups/../zebra"),
      "spec repository '/var/lib/tenantry/backups/../zebra' is not",
    ],
    [
      "shell in an argv word",
      good.replace(`dump web zebra-web ${b64("sh")}`, `dump web zebra-web $(touch ${marker})`),
      "spec dump argv '$(touch' is not a base64 word", // split into words, never run
    ],
    [
      "an argv word that is not base64",
      good.replace(`dump web zebra-web ${b64("sh")}`, `dump web zebra-web \`touch\``),
      "spec dump argv '`touch`' is not a base64 word",
    ],
    [
      "a glob as a word",
      good.replace("container zebra-web", "container /*"),
      "spec container '/*' is not a container name",
    ],
    [
      "a stage path out of the stage",
      good.replace(
        "/run/tenantry/stage/volumes/web/data",
        "/run/tenantry/stage/volumes/web/../../../etc",
      ),
      "spec volume stage '/run/tenantry/stage/volumes/web/../../../etc' is not",
    ],
    [
      "a dot segment in an exclude",
      good.replace("web/data/app.db-wal", "web/data/../../../../etc/shadow"),
      "spec exclude path '/run/tenantry/stage/volumes/web/data/../../../../etc/shadow' is not",
    ],
    [
      "an unknown record",
      `${good}run rm -rf /\n`,
      "the backup spec of tenant zebra: line 12: unknown record run",
    ],
    ["a tab", good.replace("keep 7 4 0", "keep\t7 4 0"), "a line holds a control character"],
    [
      "no header",
      good.split("\n").slice(1).join("\n"),
      "its first line is not tenantry-backup-spec 1",
    ],
    ["no newline at the end", good.slice(0, -1), "its last line does not end in a newline"],
    ["no daily snapshot kept", good.replace("keep 7 4 0", "keep 0 4 0"), "spec keep daily '0'"],
    ["two keep lines", `${good}keep 7 4 0\n`, "line 12: a second keep line"],
    [
      "an ssh option smuggled in as a port",
      good.replace(" 2222 ", " -oProxyCommand=id "),
      "spec offsite-sftp port '-oProxyCommand=id' is not a port",
    ],
    [
      "another tenant's offsite repository",
      good.replace("/srv/tenantry/zebra", "/srv/tenantry/other"),
      "offsite sftp:backup@203.0.113.20:/srv/tenantry/other is not tenant zebra's",
    ],
  ])("refuses a spec with %s, and nothing changes", (_name, spec, message) => {
    const r = run(["backup-setup", "zebra", "nightly", "vps1"], withSpec(spec));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/^tenantry-root: /);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(state)).toBe(false);
  });

  it.each([
    [["backup-tool", "zebra", "backup", "--final;id"], "backup-tool: word '--final;id' is not"],
    [["backup-tool", "zebra", "rm", "-rf"], "backup-tool: action 'rm' is not backup, restore"],
    [["backup-tool", "../zebra", "backup"], "backup-tool: identity '../zebra' is not"],
    [["backup-tool", "zebra", "restore", "$(id)"], "backup-tool: word '$(id)' is not"],
    [
      ["backup-stage", "zebra", "/tmp/work.abcdef", "0"],
      "backup-stage: work '/tmp/work.abcdef' is not backup-tool's work directory",
    ],
    [
      ["backup-stage", "zebra", "/var/lib/tenantry/tenants/other/work.abcdef", "0"],
      "backup-stage: the work directory is not this tenant's",
    ],
    [["backup-schedule", "24", "00", "vps1"], "backup-schedule: hour '24' is not an hour"],
    [["backup-schedule", "3", "00", "vps1"], "backup-schedule: hour '3' is not an hour"],
    [["backup-setup", "zebra", "sometimes", "vps1"], "backup-setup: schedule 'sometimes' is not"],
  ])("refuses %j on the host", (args, message) => {
    const r = run(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describeWith("the rendered entry point", ["shellcheck"], () => {
  it("passes shellcheck -s sh", () => {
    expect(shellcheck(entryPointText())).toBe("");
  });
  it("decodes an argv word by word, an empty word and trailing newlines kept", () => {
    // The same decoding as the tool's in_container, without docker.
    const body = entryPointText()
      .split("\n")
      .filter((l) => l.includes("v=$(printf '%s' \"$w\" | base64 -d && echo .)"))[0]!;
    expect(body).toBeDefined();
    const words = ["a b", "", "it's $HOME\n", "*"];
    const encoded = words.map((w) => (w === "" ? "-" : b64(w)));
    const out = execFileSync(
      "sh",
      [
        "-c",
        `set -eu; decode() { n=$#; for w in "$@"; do\n${body}\nset -- "$@" "$v"; done; shift "$n"; printf '[%s]' "$@"; }; decode "$@"`,
        "sh",
        ...encoded,
      ],
      { encoding: "utf8" },
    );
    expect(out).toBe("[a b][][it's $HOME\n][*]");
  });
});
