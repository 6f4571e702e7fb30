// Tenant sites on a real host: the generated commands run over real SSH against a real nginx,
// and a bad site never takes the other tenants offline.
import { readFileSync, statSync } from "node:fs";
import { expect, it } from "vitest";
import { readSite, siteCommand, siteFile, testSite } from "../support/commands";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { runRemote, runRemoteOk } from "../support/runner";

describeReal("tenant sites over SSH", [], () => {
  const t = useTestHost(["acme", "globex", "initech"]);

  it("installs a site, passes nginx -t, routes its Host after the reload step, and deletes it", async () => {
    const acme = t.site("acme");
    const installed = await t.install(acme);
    expect(installed.stdout).toContain("tenantry: site acme installed");
    expect(readSite(t.host, "acme")).toBe(acme.config);
    expect((await t.nginxTest()).code).toBe(0);

    expect((await t.reload()).stdout).toContain("tenantry: nginx reloaded");
    await t.expectAnswer("acme.example.com", "200 tenant acme");

    const removed = await runRemoteOk(siteCommand(t.host, acme), "delete");
    expect(removed.stdout).toContain("tenantry: site acme removed");
    expect(readSite(t.host, "acme")).toBeUndefined();
    await t.expectAnswer("acme.example.com", "closed without response");
  });

  it("routes two tenants by Host and gives an unknown Host nobody's content", async () => {
    await t.install(t.site("acme"));
    await t.install(t.site("globex"));
    await t.reload();
    await t.expectAnswer("acme.example.com", "200 tenant acme");
    await t.expectAnswer("globex.example.com", "200 tenant globex");
    expect(await t.answer("unknown.example.com")).toBe("closed without response");
    expect(await t.answer("127.0.0.1")).toBe("closed without response");
  });

  it("refuses a site nginx rejects, keeps the previous version and the other tenants", async () => {
    const before = readSite(t.host, "globex");
    // Only directives tenantry writes pass the entry point (test/unit/siteText.test.ts); this one
    // is nginx's to reject.
    const broken = t
      .site("globex")
      .config.replace("client_max_body_size 10m;", "client_max_body_size ten;");
    const result = await runRemote(siteCommand(t.host, t.site("globex"), { stdin: broken }));

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('"client_max_body_size" directive invalid value');
    expect(result.stderr).toContain("the previous version is back");
    expect(readSite(t.host, "globex")).toBe(before);
    expect((await t.nginxTest()).code).toBe(0);
    await t.expectAnswer("acme.example.com", "200 tenant acme");
    await t.expectAnswer("globex.example.com", "200 tenant globex");
  });

  it("refuses a domain another tenant's site still serves, naming the two-step move", async () => {
    const thief = testSite(t.host, "initech", t.backend("initech").port, {
      domains: ["initech.example.com", "acme.example.com"],
    });
    const result = await runRemote(siteCommand(t.host, thief));

    expect(result.code).not.toBe(0);
    // Another tenantry site has the domain: refused before nginx sees it, with the two-step move.
    expect(result.stderr).toContain(
      `tenantry: acme.example.com is still served by /etc/nginx/tenantry/sites/acme.conf (tenantry-site: acme@${t.host.name}): a domain moves between tenants in two applies`,
    );
    expect(readSite(t.host, "initech")).toBeUndefined();
    await t.reload();
    await t.expectAnswer("acme.example.com", "200 tenant acme");
    expect(await t.answer("initech.example.com")).toBe("closed without response");
  });

  it("changes nothing when an install runs again: same bytes and mtime, no reload", async () => {
    await t.install(t.site("acme"));
    await t.reload();
    const file = siteFile(t.host, "acme");
    const bytes = readFileSync(file);
    const mtime = statSync(file).mtimeMs;
    const workers = await t.settledWorkers();

    const again = await t.install(t.site("acme"));
    expect(again.stdout).toBe("tenantry: site acme unchanged\n");
    const reloaded = await t.reload();
    expect(reloaded.stdout).toBe("tenantry: no site changed; nginx not reloaded\n");

    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(t.host.nginx.workerPids()).toEqual(workers);
  });

  it("deletes one site, keeps the other, and a second delete succeeds", async () => {
    const globex = t.site("globex");
    await t.install(globex);
    await t.reload();

    await runRemoteOk(siteCommand(t.host, globex), "delete");
    expect(readSite(t.host, "globex")).toBeUndefined();
    await t.expectAnswer("globex.example.com", "closed without response");
    await t.expectAnswer("acme.example.com", "200 tenant acme");

    const again = await runRemoteOk(siteCommand(t.host, globex), "delete");
    expect(again.stdout).toBe("tenantry: site globex already gone\n");
  });

  it("keeps a replacement when the replaced resource's delete runs after it", async () => {
    // Pulumi creates the replacement (new trigger: the marker) before deleting the old one.
    const old = t.site("acme", { hostName: "vps1" });
    const replacement = t.site("acme", { hostName: "vps2" });
    await t.install(old);
    await t.install(replacement);
    await t.reload();

    const oldDelete = await runRemoteOk(siteCommand(t.host, old), "delete");
    expect(oldDelete.stdout).toContain("now belongs to a newer deployment; left in place");
    expect(readSite(t.host, "acme")).toBe(replacement.config);
    await t.expectAnswer("acme.example.com", "200 tenant acme");

    await runRemoteOk(siteCommand(t.host, replacement), "delete");
    expect(readSite(t.host, "acme")).toBeUndefined();
  });
});
