// A non-root SSH user: with the README's sudoers line the scripts run as root through asRoot's
// wrapper; without it the command fails with the line to add. The users exist only inside the
// test sshd's mount namespace (see test/support/sshd.ts).
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { sudoersLine } from "../../remote/scripts";
import {
  bootstrapCommand,
  readSite,
  reloadCommand,
  siteCommand,
  sitePath,
} from "../support/commands";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { run } from "../support/proc";
import { runRemote, runRemoteOk } from "../support/runner";

const DEPLOY = "tnt-deploy";
const NO_SUDO = "tnt-nosudo";

describeReal("non-root SSH user through sudo", ["sudo"], () => {
  const t = useTestHost(["acme"], {
    users: [
      { name: DEPLOY, sudo: true },
      { name: NO_SUDO, sudo: false },
    ],
    bootstrap: false,
  });

  it("documents a sudoers line that visudo accepts", async () => {
    const file = join(t.host.dir, "sudoers-tenantry");
    writeFileSync(file, sudoersLine(DEPLOY) + "\n", { mode: 0o440 });
    expect(sudoersLine(DEPLOY)).toBe(`${DEPLOY} ALL=(root) NOPASSWD: /bin/sh`);
    const check = await run("visudo", ["-c", "-f", file]);
    expect(check.stdout + check.stderr).toContain("parsed OK");
    expect(check.code).toBe(0);
  });

  it("bootstraps, installs and reloads as a user with the sudoers line", async () => {
    const bootstrap = await runRemoteOk(bootstrapCommand(t.host, DEPLOY));
    expect(bootstrap.stdout).toBe("tenantry: host vps1 ready\n");
    const acme = t.site("acme");
    const installed = await runRemoteOk(siteCommand(t.host, acme, { user: DEPLOY }));
    expect(installed.stderr).toBe("");
    await runRemoteOk(reloadCommand(t.host, DEPLOY));

    expect(readSite(t.host, "acme")).toBe(acme.config);
    expect(statSync(sitePath(t.host, "acme")).uid).toBe(0);
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
