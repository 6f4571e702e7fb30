// A non-root SSH user: with the README's sudoers line the scripts run as root through asRoot's
// wrapper; without it the command fails with the line to add. The users exist only inside the
// test sshd's mount namespace (see test/support/sshd.ts).
import { readFileSync, statSync } from "node:fs";
import { expect, it } from "vitest";
import { sudoersLine } from "../../remote/scripts";
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
      `tenantry: user ${NO_SUDO} cannot run sudo without a password; add to /etc/sudoers.d/tenantry: ${NO_SUDO} ALL=(root) NOPASSWD: /bin/sh\n`,
    );
    expect(readSite(t.host, "acme")).toBe(before);
  });
});
