// Bootstrap of a host: the tool check names what is missing, the include goes in with its
// catch-all server, and a site rendered by nginx.ts passes nginx -t and routes by path.
import { existsSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { siteMarker } from "../../core/names";
import { renderHostInclude, renderSite } from "../../remote/nginx";
import { sitesDir } from "../../remote/scripts";
import { bootstrapCommand, readSite } from "../support/commands";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { eventually } from "../support/proc";
import { runRemote, runRemoteOk } from "../support/runner";

describeReal("host bootstrap", [], () => {
  const t = useTestHost(["acme", "acme-api"], { bootstrap: false });

  it("fails naming the missing tool when docker is not on the PATH", async () => {
    t.host.setDocker("absent");
    try {
      const result = await runRemote(bootstrapCommand(t.host));
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        "tenantry: host vps1 is missing: docker (install docker.io, or docker-ce from Docker); then run pulumi up again\n",
      );
      expect(existsSync(t.host.nginx.include)).toBe(false);
    } finally {
      t.host.setDocker("running");
    }
  });

  it("fails when docker is installed but its daemon does not answer", async () => {
    t.host.setDocker("stopped");
    try {
      const result = await runRemote(bootstrapCommand(t.host));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("docker is installed but its daemon does not answer");
      expect(existsSync(t.host.nginx.include)).toBe(false);
    } finally {
      t.host.setDocker("running");
    }
  });

  it("installs the include, whose catch-all closes the connection for an unknown Host", async () => {
    const result = await runRemoteOk(bootstrapCommand(t.host));
    expect(result.stdout).toBe("tenantry: host vps1 ready\n");
    expect(readFileSync(t.host.nginx.include, "utf8")).toBe(
      renderHostInclude({ sitesDir: sitesDir(t.host.layout), listen: t.host.layout.listen }),
    );
    expect((await t.nginxTest()).code).toBe(0);
    await t.expectAnswer("unknown.example.com", "closed without response");
  });

  it("changes nothing when the bootstrap runs again", async () => {
    const workers = await eventually("one generation of nginx workers", () => {
      const pids = t.host.nginx.workerPids();
      return pids.length === 1 ? pids : undefined;
    });
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
});
