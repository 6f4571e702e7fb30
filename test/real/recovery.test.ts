// A half-finished apply never leaves the host in a state the next apply cannot fix: a run killed
// while an untested file is live, a reload a failed apply skipped, a file that breaks nginx -t,
// and warnings the host already had.
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { expect, it } from "vitest";
import { sitesDir } from "../../remote/scripts";
import { readSite, siteCommand, siteFile, sitePath } from "../support/commands";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { eventually, freePort } from "../support/proc";
import { runRemote, runRemoteOk } from "../support/runner";

describeReal("recovery from interrupted and failed applies", [], () => {
  const t = useTestHost(["acme", "globex"]);

  it("accepts changes on a host whose nginx -t already warns about something else", async () => {
    // Debian's nginx prefixes every warning with the time and its pid: the comparison with the
    // warnings from before the change must not see the same warning as new.
    const legacyPort = await freePort();
    const legacy = t.host.file("/etc/nginx/conf.d/legacy.conf");
    const server = `server { listen 127.0.0.1:${legacyPort}; server_name legacy.example.com; }\n`;
    writeFileSync(legacy, server + server);
    try {
      expect((await t.nginxTest()).stderr).toContain("[warn]");
      const result = await t.install(t.site("acme", { domains: ["acme.example.com"] }));
      expect(result.stdout).toContain("tenantry: site acme installed");
    } finally {
      rmSync(legacy);
    }
  });

  it("reloads in the next apply when a failed apply skipped the reload step", async () => {
    await t.install(t.site("acme"));
    await t.reload();
    // The change lands, then the apply stops before the reload step (another tenant failed).
    const withAlias = t.site("acme", { domains: ["acme.example.com", "www.acme.example.com"] });
    await t.install(withAlias);
    expect(await t.answer("www.acme.example.com")).toBe("closed without response");

    // Next apply: the site is unchanged, but the reload step still reloads.
    expect((await t.install(withAlias)).stdout).toBe("tenantry: site acme unchanged\n");
    expect((await t.reload()).stdout).toBe("tenantry: nginx reloaded\n");
    await t.expectAnswer("www.acme.example.com", "200 tenant acme");
  });

  it("lets the next apply repair a site file that breaks nginx -t", async () => {
    // What a hand edit leaves behind, or a run killed on a host without the journal below.
    const acme = t.site("acme");
    await t.install(acme);
    await t.install(t.site("globex"));
    await t.reload();
    writeFileSync(siteFile(t.host, "acme"), acme.config.replace("listen", "listn"));

    const globexChanged = t.site("globex").config + "# changed\n";
    const other = await runRemote(siteCommand(t.host, t.site("globex"), { stdin: globexChanged }));
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain("nginx -t already failed before this change");
    expect(other.stderr).toContain('unknown directive "listn"');

    const repaired = await runRemoteOk(siteCommand(t.host, acme));
    expect(repaired.stdout).toContain("tenantry: site acme installed");
    expect((await t.nginxTest()).code).toBe(0);
    await t.reload();
    await t.expectAnswer("acme.example.com", "200 tenant acme");
    await t.expectAnswer("globex.example.com", "200 tenant globex");
  });

  it("rolls back a file that a killed run left live but untested", async () => {
    const acme = t.site("acme");
    await t.install(acme);
    const previous = readSite(t.host, "acme");

    // An nginx whose `-t` hangs while a site carries the mark: the run is killed right there,
    // after the new file went live and before nginx judged it.
    // Installed first on the entry point's PATH inside the host (/usr/local/sbin is the host's
    // own), and its pids written in /root.
    const pids = t.host.file("/root/interrupted.pids");
    const wrapper = t.host.file("/usr/local/sbin/nginx");
    writeFileSync(
      wrapper,
      [
        "#!/bin/sh",
        'for arg; do [ "$arg" = -t ] && testing=1; done',
        `if [ "\${testing:-}" = 1 ] && grep -qs -F '# interrupt-here' ${sitesDir(t.host.layout)}/*.conf; then`,
        '  echo "$PPID $$" >/root/interrupted.pids.new && mv /root/interrupted.pids.new /root/interrupted.pids',
        "  exec sleep 30",
        "fi",
        'exec /usr/sbin/nginx "$@"',
        "",
      ].join("\n"),
    );
    chmodSync(wrapper, 0o755);
    const run = runRemote(
      siteCommand(t.host, acme, { user: "root", stdin: acme.config + "# interrupt-here\n" }),
    );
    const [script, sleeper] = await eventually("the run to reach nginx -t", () =>
      existsSync(pids) ? readFileSync(pids, "utf8").trim().split(" ").map(Number) : undefined,
    );
    process.kill(script!, "SIGKILL");
    process.kill(sleeper!, "SIGKILL");
    rmSync(wrapper);
    expect((await run).code).not.toBe(0);
    expect(readSite(t.host, "acme")).toContain("# interrupt-here");

    // Any later tenantry run on the host puts the previous version back first.
    const next = await t.install(t.site("globex"));
    expect(next.stderr).toContain(
      `tenantry: an interrupted run left ${sitePath(t.host, "acme")} untested; the previous version is back`,
    );
    expect(readSite(t.host, "acme")).toBe(previous);
    expect((await t.nginxTest()).code).toBe(0);
    expect((await t.install(acme)).stdout).toBe("tenantry: site acme unchanged\n");
  });
});
