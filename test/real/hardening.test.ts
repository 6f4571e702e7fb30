// Host scripts that must not say "done" when they are not: a full filesystem fails the step and
// changes nothing, a stopped nginx fails a reload or removal before anything moves, and the host
// lock is root's alone.
import { existsSync, readFileSync, statSync } from "node:fs";
import { expect, it } from "vitest";
import { readSite, reloadCommand, siteCommand, siteFile } from "../support/commands";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { runRemote, runRemoteOk } from "../support/runner";

const NOT_RUNNING =
  "tenantry: nginx is not running on this host (start it: systemctl start nginx), so the change could not take effect; nothing was changed\n";

describeReal("host scripts on a full disk, a stopped nginx, a contested lock", [], () => {
  const t = useTestHost(["acme", "globex"]);

  it("fails a site install on a full filesystem and leaves the live site as it was", async () => {
    await t.install(t.site("acme"));
    await t.reload();
    const before = readSite(t.host, "acme");
    // A 64 KB filesystem for the sites, filled up; the live file is copied onto it first.
    const sites = "/etc/nginx/tenantry/sites";
    await t.host.execOk("sh", [
      "-c",
      `set -e; cp -a "$1" /run/sites-backup; mount -t tmpfs -o size=64k tmpfs "$1"; cp -a /run/sites-backup/. "$1"/; dd if=/dev/zero of="$1/.fill" bs=4k 2>/dev/null || true`,
      "fill",
      sites,
    ]);
    try {
      const changed = t.site("acme", { domains: ["acme.example.com", "www.acme.example.com"] });
      const result = await runRemote(siteCommand(t.host, changed));
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(
        `cp: error writing '${sites}/acme.conf.tenantry-new': No space left on device\n` +
          `tenantry: cannot write ${sites}/acme.conf (disk full?); nothing was changed\n`,
      );
      expect(readFileSync(t.host.file("/run/sites-backup/acme.conf"), "utf8")).toBe(before);
      expect(await t.host.execOk("cat", [`${sites}/acme.conf`])).toBe(before);
      // No journal left: the next run must not "roll back" a change that never happened.
      expect(existsSync(t.host.file("/etc/nginx/tenantry/pending"))).toBe(false);
    } finally {
      await t.host.execOk("umount", [sites]);
    }
    const next = await t.install(t.site("acme"));
    expect(next.stderr).toBe("");
    expect(next.stdout).toBe("tenantry: site acme unchanged\n");
  });

  it("refuses a reload and a removal while nginx is stopped, and moves nothing", async () => {
    const globex = t.site("globex");
    await t.install(globex); // flags the reload
    await t.host.nginx.stop();
    try {
      const reload = await runRemote(reloadCommand(t.host));
      expect(reload.code).toBe(1);
      expect(reload.stderr).toBe(NOT_RUNNING);
      const removal = await runRemote(siteCommand(t.host, t.site("acme")), "delete");
      expect(removal.code).toBe(1);
      expect(removal.stderr).toBe(NOT_RUNNING);
      expect(readSite(t.host, "acme")).toBe(t.site("acme").config);
    } finally {
      await t.host.nginx.start();
    }
    expect((await runRemoteOk(reloadCommand(t.host))).stdout).toBe("tenantry: nginx reloaded\n");
    await t.expectAnswer("globex.example.com", "200 tenant globex");
    const removed = await runRemoteOk(siteCommand(t.host, t.site("acme")), "delete");
    expect(removed.stdout).toBe("tenantry: site acme removed\n");
    await t.expectAnswer("acme.example.com", "closed without response");
  });

  it("keeps the host lock where only root can open it", async () => {
    const lock = t.host.file("/etc/nginx/tenantry/lock");
    expect(statSync(lock).mode & 0o777).toBe(0o600);
    expect(statSync(lock).uid).toBe(0);
    // The deploy user, without sudo, cannot hold it (and so cannot stall every deploy).
    const held = await t.host.exec("su", [
      "-s",
      "/bin/sh",
      "deploy",
      "-c",
      "flock -n /etc/nginx/tenantry/lock true",
    ]);
    expect(held.code).not.toBe(0);
    expect(held.stderr).toContain("Permission denied");
    expect(statSync(siteFile(t.host, "globex")).mode & 0o777).toBe(0o644);
  });
});
