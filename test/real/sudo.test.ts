// A non-root SSH user: with the README's sudoers line the root steps run through the entry point
// (remote/entry.ts) and nothing else runs as root; without it the command fails with the line to
// add. The users exist only inside the
// test sshd's mount namespace (see test/support/sshd.ts).
import { readFileSync, renameSync, statSync } from "node:fs";
import { expect, it } from "vitest";
import { entryPointText, entryPointVersion } from "../../remote/entry";
import { ENTRY_POINT, sudoersLine } from "../../remote/operation";
import { sh } from "../../remote/shell";
import {
  bootstrapCommand,
  readSite,
  reloadCommand,
  siteCommand,
  siteFile,
} from "../support/commands";
import { DEPLOY } from "../support/host";
import { hostPreparation } from "../support/readme";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { runRemote, runRemoteOk } from "../support/runner";

const NO_SUDO = "nosudo";

describeReal("non-root SSH user through sudo", ["sudo"], () => {
  const t = useTestHost(["acme"], {
    // `deploy` is prepared by the README's own commands (test/support/host.ts).
    users: [{ name: NO_SUDO, docker: true, sudo: false }],
    bootstrap: false,
  });

  it("documents the sudoers line the scripts name, and visudo accepts what the README wrote", async () => {
    // The README's preparation wrote /etc/sudoers.d/tenantry on the host; the hint the scripts
    // give a user without it must name the same line.
    expect(hostPreparation().script).toContain(
      `echo '${sudoersLine(DEPLOY)}' > /etc/sudoers.d/tenantry`,
    );
    expect(readFileSync(t.host.file("/etc/sudoers.d/tenantry"), "utf8")).toBe(
      `${sudoersLine(DEPLOY)}\n`,
    );
    const check = await t.host.exec("visudo", ["-c", "-f", "/etc/sudoers.d/tenantry"]);
    expect(check.stdout + check.stderr).toContain("parsed OK");
    expect(check.code).toBe(0);
  });

  it("bootstraps, installs and reloads as a user with the sudoers line", async () => {
    const bootstrap = await runRemoteOk(bootstrapCommand(t.host, DEPLOY));
    expect(bootstrap.stdout).toMatch(/tenantry: host vps1 ready\n$/);
    const acme = t.site("acme");
    const installed = await runRemoteOk(siteCommand(t.host, acme, { user: DEPLOY }));
    expect(installed.stderr).toBe("");
    await runRemoteOk(reloadCommand(t.host, DEPLOY));

    expect(readSite(t.host, "acme")).toBe(acme.config);
    expect(statSync(siteFile(t.host, "acme")).uid).toBe(0);
    await t.expectAnswer("acme.example.com", "200 tenant acme");
  });

  it("tells a user without the sudoers line which line to add, and changes nothing", async () => {
    const before = readSite(t.host, "acme");
    const changed = t.site("acme", { domains: ["acme.example.com", "www.acme.example.com"] });
    const result = await runRemote(siteCommand(t.host, changed, { user: NO_SUDO }));

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `tenantry: user ${NO_SUDO} may not run ${ENTRY_POINT} through sudo without a password; add to /etc/sudoers.d/tenantry: ${NO_SUDO} ALL=(root) NOPASSWD: ${ENTRY_POINT}\n`,
    );
    expect(readSite(t.host, "acme")).toBe(before);
  });

  it("gives the deploy user no root shell: sudo runs the entry point and nothing else", async () => {
    const shell = await runRemote({
      connection: t.host.connection(DEPLOY),
      create: "sudo -n /bin/sh -c id; echo rc=$?",
    });
    expect(shell.stdout).toMatch(/rc=1\n$/);
    expect(shell.stdout + shell.stderr).not.toMatch(/uid=0/);
    const entry = statSync(t.host.file(ENTRY_POINT));
    expect([entry.uid, entry.mode & 0o7777]).toEqual([0, 0o755]);
    expect(readFileSync(t.host.file(ENTRY_POINT), "utf8")).toBe(entryPointText());
  });

  it.each([
    [
      "a site outside nginx's tree",
      ["site-install", "/etc", "/etc/nginx/conf.d/tenantry.conf", "", "acme"],
      "dir '/etc' is not",
    ],
    [
      "a dot segment",
      [
        "site-install",
        "/etc/nginx/tenantry/../../cron.d",
        "/etc/nginx/conf.d/tenantry.conf",
        "",
        "acme",
      ],
      "is not tenantry's own directory",
    ],
    [
      "a tenant name that is a path",
      [
        "site-remove",
        "/etc/nginx/tenantry",
        "/etc/nginx/conf.d/tenantry.conf",
        "",
        "../acme",
        "acme@vps1",
      ],
      "tenant '../acme' is not a tenant name",
    ],
    [
      "nginx's main config as the include",
      [
        "bootstrap",
        entryPointVersion(),
        "/etc/nginx/tenantry",
        "/etc/nginx/nginx.conf",
        "",
        "vps1",
      ],
      "include '/etc/nginx/nginx.conf' is not",
    ],
    ["an unknown operation", ["sh", "-c", "id"], "unknown operation sh"],
    ["a missing argument", ["reload", "/etc/nginx/tenantry"], "usage: "],
  ])("refuses %s before anything runs", async (_what, argv, message) => {
    const before = readSite(t.host, "acme");
    const result = await runRemote({
      connection: t.host.connection(DEPLOY),
      create: sh`sudo -n ${ENTRY_POINT} ${argv}`.text,
      stdin: "server { listen 80; }\n",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("tenantry-root: ");
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe("");
    expect(readSite(t.host, "acme")).toBe(before);
  });

  it("refuses to bootstrap with an entry point of another version, naming the fix", async () => {
    const text = bootstrapCommand(t.host, DEPLOY).create!.replace(
      entryPointVersion(),
      "0123456789abcdef",
    );
    const result = await runRemote({ ...bootstrapCommand(t.host, DEPLOY), create: text });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `tenantry: this host's ${ENTRY_POINT} is version ${entryPointVersion()} and this tenantry needs version 0123456789abcdef: as root, install the entry point again (README, "Preparing a host"), then run again\n`,
    );
  });

  it("names the fix on a host where the entry point is not installed", async () => {
    const installed = t.host.file(ENTRY_POINT);
    const aside = `${installed}.aside`;
    renameSync(installed, aside);
    try {
      for (const user of [DEPLOY, "root"]) {
        const result = await runRemote(reloadCommand(t.host, user));
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(
          `tenantry: this host has no ${ENTRY_POINT}, the one command tenantry runs as root; install it as root (README, "Preparing a host"), then run again\n`,
        );
      }
    } finally {
      renameSync(aside, installed);
    }
  });
});
