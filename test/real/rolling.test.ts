// Upgrades on a real host under a bounded request loop: for each edit the provider model
// (test/support/providerModel.ts) says which steps the engine takes, and this file runs exactly
// those, in the engine's order, with the program's own inputs: the Docker ones through the docker
// CLI over ssh:// (test/support/dockerCli.ts, including the provider's health wait), the site
// over SSH (the runner). A rolling service must answer every request; a stop-first one's gap is
// measured (README, "What each change does to a running tenant").
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { HostStatus } from "../../cli/commands/status";
import { tenantry } from "../cli/run";
import { T } from "../program/helpers";
import { containerCreateArgs, containerWait, waitHealthy } from "../support/dockerCli";
import { useTestHost } from "../support/fixture";
import { importBusyboxImage } from "../support/images";
import { describeReal } from "../support/prereq";
import {
  applyTenant,
  dockerOverSsh,
  evaluateFor,
  resource,
  runRecorded,
  type EvaluatedProgram,
} from "../support/program";
import { plan, stateAfterUp, type Step } from "../support/providerModel";
import { startTraffic, type TrafficReport } from "../support/traffic";

/** One tenant, one routed service answering "web <release> <container hostname>". */
function manifest(options: {
  image: string;
  release: string;
  rollout?: string;
  state?: string;
}): string {
  return `
hosts:
  vps1: { address: ADDRESS, user: deploy, hostKey: HOST_KEY, memoryMb: 1024 }
apps:
  shop:
    services:
      web:
        image: ${options.image}
        port: 8000
        route: /
        health: /health
        healthInterval: 1${options.rollout === undefined ? "" : `\n        rollout: ${options.rollout}`}
        command:
          - sh
          - -c
          # sh stays PID 1 with a TERM trap: busybox httpd as PID 1 ignores SIGTERM, and every
          # docker stop would wait out its 30 s grace.
          - 'echo "web $RELEASE $HOSTNAME" >/www/index.html && { httpd -f -p 8000 -h /www & trap "exit 0" TERM; wait; }'
plans:
  small: { memoryMb: 64, cpus: 0.5 }
tenants:
  acme:
    app: shop
    plan: small
    host: vps1
    slot: 1
    domain: acme.example.com
    env: { RELEASE: ${options.release} }${options.state === undefined ? "" : `\n    state: ${options.state}`}
`;
}

describeReal("upgrading a tenant under traffic", [], () => {
  const t = useTestHost([], { bootstrap: false });
  let docker: ReturnType<typeof dockerOverSsh>;

  const evaluate = (m: Parameters<typeof manifest>[0]) =>
    evaluateFor(
      t.host,
      manifest(m).replaceAll("ADDRESS", t.host.address).replaceAll("HOST_KEY", t.host.hostKey),
    );
  const container = (p: EvaluatedProgram) => resource(p, T.container, "acme-web");
  const dockerOk = async (args: readonly string[]): Promise<string> => {
    const result = await docker(args);
    if (result.code !== 0) throw new Error(`docker ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const imageId = async (ref: string) =>
    (await t.host.dockerOk(["image", "inspect", "--format", "{{.Id}}", ref])).trim();
  const traffic = () =>
    startTraffic({ address: t.host.address, port: t.host.nginxPort, host: "acme.example.com" });

  /** The steps the model plans for the tenant's container and site, as "op name (order)". */
  const steps = (from: EvaluatedProgram, to: EvaluatedProgram): string[] => {
    const names = new Map(to.resources.map((r) => [r.urn, r.name]));
    const show = (s: Step) =>
      `${s.op} ${names.get(s.urn) ?? s.urn}${s.op === "replace" ? ` (${s.order})` : ""}`;
    return plan(stateAfterUp(from.resources), to.resources)
      .filter((s) => ["acme-web", "acme-site"].includes(names.get(s.urn) ?? ""))
      .map(show)
      .sort();
  };

  /** The provider's delete of a container: ContainerRemove, Force (and its anonymous volumes). */
  const removeContainer = (name: string) => dockerOk(["rm", "--force", "--volumes", name]);

  /** Creates `to`'s container as the provider does: create, network, start, health wait. */
  const createContainer = async (to: EvaluatedProgram, ref: string) => {
    const inputs = container(to).inputs;
    for (const args of containerCreateArgs(inputs, { imageId: await imageId(ref) })) {
      await dockerOk(args);
    }
    const wait = containerWait(inputs);
    if (wait !== undefined) await waitHealthy(dockerOk, wait);
  };

  /** The site's update (its create runs again with the new stdin), then the host's reload. */
  const updateSite = async (to: EvaluatedProgram) => {
    const site = await runRecorded(t.host, resource(to, T.command, "acme-site"));
    expect(site.failure).toBeUndefined();
    return site.stdout;
  };

  /** A create-first replacement as the engine runs it: new container, dependents, old one. */
  const rollingReplace = async (from: EvaluatedProgram, to: EvaluatedProgram, ref: string) => {
    await createContainer(to, ref);
    const site = await updateSite(to);
    await removeContainer(String(container(from).inputs.name));
    return site;
  };

  const expectNoFailure = (report: TrafficReport) => {
    expect(report.failures).toEqual([]);
    expect(report.requests).toBeGreaterThan(20);
  };

  let v1: EvaluatedProgram;
  let v2: EvaluatedProgram;

  beforeAll(async () => {
    // Two images with the same files but distinct IDs, as two releases of an app would be.
    await importBusyboxImage(t.host, ["tenantry-test/web:1"]);
    await t.host.dockerOk(["import", join(t.host.dir, "image.tar"), "tenantry-test/web:2"]);
    v1 = await evaluate({ image: "tenantry-test/web:1", release: "r1" });
    docker = dockerOverSsh(t.host, v1);
    const bootstrap = await runRecorded(t.host, resource(v1, T.command, "vps1-bootstrap"));
    expect(bootstrap.failure).toBeUndefined();
    await applyTenant(v1, "acme", docker);
    await updateSite(v1);
    await runRecorded(t.host, resource(v1, T.command, "vps1-nginx-reload"));
    await t.expectAnswer("acme.example.com", `200 web r1 ${await hostnameOf(v1)}\n`);
  }, 180_000);

  const hostnameOf = async (p: EvaluatedProgram) =>
    (
      await t.host.dockerOk([
        "inspect",
        "--format",
        "{{.Config.Hostname}}",
        String(container(p).inputs.name),
      ])
    ).trim();

  describe("a rolling service (a health check, no volumes)", () => {
    it("upgrades its image with no failed request: new generation healthy, site switched, old one removed", async () => {
      v2 = await evaluate({ image: "tenantry-test/web:2", release: "r1" });
      expect(steps(v1, v2)).toEqual(["replace acme-web (create-first)", "update acme-site"]);
      const [oldName, newName] = [container(v1).inputs.name, container(v2).inputs.name];
      expect(newName).not.toBe(oldName);
      const load = traffic();
      const site = await rollingReplace(v1, v2, "tenantry-test/web:2");
      // A little traffic after the old container is gone: it answers from the new one.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const report = await load.stop();
      expectNoFailure(report);
      expect(site).toBe("tenantry: site acme installed; nginx reloaded\n");
      // Old, then new: both answered during the switch, nothing else did.
      expect(report.bodies).toHaveLength(2);
      expect(report.bodies[1]).toBe(`web r1 ${await hostnameOf(v2)}\n`);
      expect((await t.host.docker(["inspect", String(oldName)])).code).not.toBe(0);
      console.log(
        `rolling image bump: ${report.requests} requests, ${report.failed} failed (${JSON.stringify(report.bodies)})`,
      );
    }, 120_000);

    it("changes an env value the same way, with no failed request", async () => {
      const v3 = await evaluate({ image: "tenantry-test/web:2", release: "r2" });
      expect(steps(v2, v3)).toEqual(["replace acme-web (create-first)", "update acme-site"]);
      const load = traffic();
      await rollingReplace(v2, v3, "tenantry-test/web:2");
      await new Promise((resolve) => setTimeout(resolve, 500));
      const report = await load.stop();
      expectNoFailure(report);
      expect(report.bodies.at(-1)).toBe(`web r2 ${await hostnameOf(v3)}\n`);
      // The new generation publishes on its own loopback address; nothing else on the host.
      const ports = await t.host.dockerOk([
        "inspect",
        "--format",
        "{{json .NetworkSettings.Ports}}",
        String(container(v3).inputs.name),
      ]);
      const ip = (container(v3).inputs.ports as { ip: string }[])[0]!.ip;
      expect(ports.trim()).toBe(`{"8000/tcp":[{"HostIp":"${ip}","HostPort":"10010"}]}`);
      expect(ip).not.toBe("127.0.0.1");
      v2 = v3;
      console.log(`rolling env change: ${report.requests} requests, ${report.failed} failed`);
    }, 120_000);
  });

  describe("host scripts on a rolling service's generation (found by its label)", () => {
    it("status reports it under its logical name, running, healthy, with its memory use", async () => {
      const file = join(t.host.dir, "status.yaml");
      writeFileSync(
        file,
        manifest({ image: "tenantry-test/web:2", release: "r2" })
          .replaceAll("ADDRESS", t.host.address)
          .replaceAll("HOST_KEY", t.host.hostKey),
      );
      const result = await tenantry(
        t.host.dir,
        "status",
        "--json",
        "-f",
        file,
        "-i",
        t.host.keyPath,
      );
      const { hosts } = JSON.parse(result.stdout) as { hosts: HostStatus[] };
      const web = hosts[0]!.tenants[0]!.services[0]!;
      expect(web).toMatchObject({
        service: "web",
        container: "acme-web",
        status: "running",
        health: "healthy",
      });
      expect(web.memoryUsed).toBeGreaterThan(0);
    });

    it("suspend stops the generation, and resuming starts it with the provider's update", async () => {
      const suspended = await evaluate({
        image: "tenantry-test/web:2",
        release: "r2",
        state: "suspended",
      });
      // Suspending runs nothing new: the same generation, updated in place (start, mustRun).
      expect(steps(v2, suspended)).toEqual(["update acme-site", "update acme-web"]);
      const stop = await runRecorded(t.host, resource(suspended, T.command, "acme-suspend"));
      expect(stop.failure).toBeUndefined();
      const name = String(container(v2).inputs.name);
      expect(stop.stdout).toMatch(/^tenantry: tenant acme suspended; stopped: [0-9a-f]{12}\n$/);
      expect(
        (await t.host.dockerOk(["inspect", "--format", "{{.State.Running}}", name])).trim(),
      ).toBe("false");
      // What the provider's Update does when mustRun goes back to true: ContainerStart.
      await dockerOk(["start", name]);
      await t.expectAnswer("acme.example.com", `200 web r2 ${await hostnameOf(v2)}\n`);
    });
  });

  describe("a stop-first service", () => {
    it("is down between the old container's removal and the new one's start (measured)", async () => {
      // Going stop-first is itself a replacement, delete-first (the provider's order): the
      // generation's name and address go, the site goes back to 127.0.0.1 at the host's reload.
      const s1 = await evaluate({
        image: "tenantry-test/web:2",
        release: "r2",
        rollout: "stop-first",
      });
      expect(steps(v2, s1)).toEqual(["replace acme-web (delete-first)", "update acme-site"]);
      await removeContainer(String(container(v2).inputs.name));
      await createContainer(s1, "tenantry-test/web:2");
      expect(await updateSite(s1)).toBe(
        "tenantry: site acme installed; nginx reloads once in the host reload step\n",
      );
      await runRecorded(t.host, resource(s1, T.command, "vps1-nginx-reload"));
      await t.expectAnswer("acme.example.com", `200 web r2 ${await hostnameOf(s1)}\n`);
      const s2 = await evaluate({
        image: "tenantry-test/web:2",
        release: "r3",
        rollout: "stop-first",
      });
      expect(steps(s1, s2)).toEqual(["replace acme-web (delete-first)"]);
      const load = traffic();
      // The engine's delete-first order: the old one goes, then the new one is created.
      await removeContainer(String(container(s1).inputs.name));
      await createContainer(s2, "tenantry-test/web:2");
      await t.expectAnswer("acme.example.com", `200 web r3 ${await hostnameOf(s2)}\n`);
      const report = await load.stop();
      expect(report.failed).toBeGreaterThan(0);
      expect(new Set(report.failures)).toEqual(new Set(["502"]));
      console.log(
        `stop-first env change: ${report.requests} requests, ${report.failed} failed (502) over ${report.failedWindowMs} ms`,
      );
    }, 120_000);
  });
});
