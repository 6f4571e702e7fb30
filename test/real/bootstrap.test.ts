// Bootstrap of a host prepared as the README says, on Debian's stock nginx (default site and
// all): the preflight runs as the SSH user and names what is missing, the catch-all becomes the
// default server (unknown Hosts get 444, not the welcome page), what it changes in Debian's
// files is reversible, a second run changes nothing, and nginx must really load what tenantry
// installs. A host where nginx is not running yet is bootstrapped too.
import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { siteMarker } from "../../core/names";
import { renderHostInclude, renderSite } from "../../remote/nginx";
import { sitesDir } from "../../remote/scripts";
import { bootstrapCommand, readSite, siteCommand } from "../support/commands";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { runRemote, runRemoteOk } from "../support/runner";

const DEFAULT_SITE = "/etc/nginx/sites-enabled/default";
const KEPT = "/etc/nginx/tenantry/disabled-default-site";
const INCLUDE = "/etc/nginx/conf.d/tenantry.conf";
const DROP_IN = "/etc/systemd/system/docker.service.d/tenantry.conf";

describeReal("host bootstrap on Debian's stock nginx", [], () => {
  const t = useTestHost(["acme", "acme-api"], {
    bootstrap: false,
    users: [{ name: "nodocker", docker: false, sudo: true }],
  });

  it("serves Debian's welcome page before tenantry touches the host", async () => {
    // The starting point users have: the stock default site answers every unknown name.
    expect(readlinkSync(t.host.file(DEFAULT_SITE))).toBe("/etc/nginx/sites-available/default");
    expect(await t.answer("unknown.example.com")).toContain("Welcome to nginx!");
  });

  it("fails naming the missing tool when docker is not on the PATH", async () => {
    await t.host.setDocker("absent");
    try {
      const result = await runRemote(bootstrapCommand(t.host));
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        "tenantry: host vps1 is missing: docker (install docker.io, or docker-ce from Docker); then run pulumi up again\n",
      );
      expect(existsSync(t.host.file(INCLUDE))).toBe(false);
    } finally {
      await t.host.setDocker("running");
    }
  });

  it("fails when docker is installed but its daemon does not answer", async () => {
    await t.host.setDocker("stopped");
    try {
      const result = await runRemote(bootstrapCommand(t.host));
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        "tenantry: host vps1: docker is installed but its daemon does not answer (start it: systemctl enable --now docker)\n",
      );
      expect(existsSync(t.host.file(INCLUDE))).toBe(false);
    } finally {
      await t.host.setDocker("running");
    }
  });

  it("checks docker as the SSH user and names the usermod fix", async () => {
    // sudo would pass as root; the Docker provider's `docker system dial-stdio` runs as the user.
    const result = await runRemote(bootstrapCommand(t.host, "nodocker"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^tenantry: host vps1: user nodocker may not use the docker daemon; as root run: usermod -aG docker nodocker \(the Docker connection logs in as nodocker\), then run pulumi up again \(.*permission denied.*\)\n$/,
    );
    expect(existsSync(t.host.file(INCLUDE))).toBe(false);
  });

  it("refuses a default site that is not Debian's stock file, and changes nothing", async () => {
    const stock = t.host.file("/etc/nginx/sites-available/default");
    const original = readFileSync(stock, "utf8");
    writeFileSync(stock, original + "# the company's own edits\n");
    try {
      const result = await runRemote(bootstrapCommand(t.host));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        "tenantry: a default server other than the stock Debian site is enabled in /etc/nginx/sites-enabled/default",
      );
      expect(lstatSync(t.host.file(DEFAULT_SITE)).isSymbolicLink()).toBe(true);
      expect(existsSync(t.host.file(INCLUDE))).toBe(false);
      expect(existsSync(t.host.file(DROP_IN))).toBe(false);
    } finally {
      writeFileSync(stock, original);
    }
  });

  it("makes the catch-all the default server: an unknown Host gets 444", async () => {
    const result = await runRemoteOk(bootstrapCommand(t.host));
    expect(result.stdout).toBe(
      [
        "tenantry: host vps1: containers now reachable only through nginx (TENANTRY-ISOLATION in DOCKER-USER)",
        `tenantry: host vps1: disabled the stock Debian default site (kept as ${KEPT})`,
        "tenantry: host vps1 ready",
        "",
      ].join("\n"),
    );
    expect(readFileSync(t.host.file(INCLUDE), "utf8")).toBe(
      renderHostInclude({ sitesDir: sitesDir(t.host.layout), listen: t.host.layout.listen }),
    );
    // Reversible: the link moved under tenantry's dir, the distribution's file untouched.
    expect(existsSync(t.host.file(DEFAULT_SITE))).toBe(false);
    expect(readlinkSync(t.host.file(KEPT))).toBe("/etc/nginx/sites-available/default");
    expect(existsSync(t.host.file("/etc/nginx/sites-available/default"))).toBe(true);
    expect((await t.nginxTest()).code).toBe(0);
    await t.expectAnswer("unknown.example.com", "closed without response");
    await t.expectAnswer("localhost", "closed without response");
  });

  it("changes nothing when the bootstrap runs again: no reload", async () => {
    const workers = await t.settledWorkers();
    const again = await runRemoteOk(bootstrapCommand(t.host));
    expect(again.stdout).toBe("tenantry: host vps1 ready (unchanged)\n");
    expect(t.host.nginx.workerPids()).toEqual(workers);
  });

  it("serves a rendered site with several routes, by path prefix", async () => {
    const marker = siteMarker("acme", t.host.name);
    const config = renderSite({
      tenant: "acme",
      marker,
      domains: ["acme.example.com", "www.acme.example.com"],
      listen: t.host.layout.listen,
      maxBodySize: "50m",
      routes: [
        { service: "web", path: "/", port: t.backend("acme").port },
        { service: "api", path: "/api", port: t.backend("acme-api").port },
      ],
    });
    await t.install({ tenant: "acme", hostName: t.host.name, marker, config });
    expect(readSite(t.host, "acme")).toBe(config);
    expect((await t.nginxTest()).code).toBe(0);
    await t.reload();

    await t.expectAnswer("acme.example.com", "200 tenant acme-api", "/api/users");
    await t.expectAnswer("www.acme.example.com", "200 tenant acme", "/");
    await t.expectAnswer("acme.example.com", "200 tenant acme", "/apix");
  });

  it("fails a site install that nginx would not load, and leaves nothing behind", async () => {
    // A hand edit that drops the sites include: nginx -t passes, but the site would be dead.
    const include = t.host.file(INCLUDE);
    const original = readFileSync(include, "utf8");
    writeFileSync(include, original.replace(/^include .*$/m, "# sites include removed by hand"));
    try {
      const globex = t.site("acme", { domains: ["globex.example.com"] });
      const before = readSite(t.host, "acme");
      const result = await runRemote(siteCommand(t.host, { ...globex, tenant: "globex" }));
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `tenantry: nginx -t passes but nginx does not read ${sitesDir(t.host.layout)}/globex.conf (its http block must include it); removed it\n`,
      );
      expect(readSite(t.host, "globex")).toBeUndefined();
      expect(readSite(t.host, "acme")).toBe(before);
    } finally {
      writeFileSync(include, original);
    }
  });
});

describe("host bootstrap where nginx is not running yet", () => {
  describeReal("(stopped nginx)", [], () => {
    const t = useTestHost([], { bootstrap: false, nginx: "stopped" });

    it("starts nginx, with the catch-all as the default server", async () => {
      expect(t.host.nginx.masterPid()).toBeUndefined();
      const result = await runRemoteOk(bootstrapCommand(t.host));
      expect(result.stdout).toContain("tenantry: host vps1: started nginx\n");
      expect(result.stdout).toMatch(/tenantry: host vps1 ready\n$/);
      expect(t.host.nginx.masterPid()).toBeDefined();
      await t.expectAnswer("unknown.example.com", "closed without response");
    });
  });
});
