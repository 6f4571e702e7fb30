// The program's own resources on a real host: the manifest in test/fixtures/real is evaluated
// under mocks, its remote commands run over SSH as `deploy` (the runner: pulumi-command's
// behaviour) and its Docker objects are created through the docker CLI over ssh:// with the
// program's ssh options (the translation in test/support/dockerCli.ts). Then what users rely on
// is measured with traffic: each tenant's Host reaches its own container through nginx, nothing
// reaches a container any other way, and tenants cannot reach each other.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { ISOLATION_CHAIN, ISOLATION_SCRIPT, DOCKER_DROP_IN } from "../../remote/scripts";
import { T } from "../program/helpers";
import { containerCreateArgs } from "../support/dockerCli";
import { useTestHost } from "../support/fixture";
import { importBusyboxImage, BUSYBOX } from "../support/images";
import { describeReal } from "../support/prereq";
import { eventually, run } from "../support/proc";
import {
  applyTenant,
  dockerOverSsh,
  evaluateFor,
  resource,
  runRecorded,
  type EvaluatedProgram,
} from "../support/program";
import { runRemote } from "../support/runner";

const MANIFEST = join(__dirname, "..", "fixtures", "real", "tenants.yaml");

/** An HTTP GET of `/` with busybox's nc (its wget cannot resolve names): the answer, or "". */
const HTTP_GET = String.raw`printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' | nc -w 2 "$0" "$1" || true`;

describeReal("the program's containers on a real host", [], () => {
  const t = useTestHost([], { bootstrap: false });
  let program: EvaluatedProgram;
  let docker: ReturnType<typeof dockerOverSsh>;

  /** inspect through the host's own socket (as root on the host). */
  const inspect = async (name: string, format: string): Promise<string> =>
    (await t.host.dockerOk(["inspect", "--format", format, name])).trim();
  /** What `GET /` from inside a container answers for host:port ("" for nothing). */
  const fromContainer = async (container: string, host: string, port: number): Promise<string> =>
    (await t.host.dockerOk(["exec", container, "sh", "-c", HTTP_GET, host, String(port)])).trim();
  /** The same from the neighbour machine on the host's LAN, with busybox's nc. */
  const fromNeighbour = async (host: string, port: number): Promise<string> => {
    const [nsenter, ...prefix] = t.host.neighbour.enter();
    const result = await run(nsenter!, [
      ...prefix,
      "--",
      BUSYBOX,
      "sh",
      "-c",
      HTTP_GET,
      host,
      String(port),
    ]);
    return result.stdout.trim();
  };
  const address = (container: string, network: string) =>
    inspect(container, `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`);

  beforeAll(async () => {
    await importBusyboxImage(t.host, ["tenantry-test/web:1", "tenantry-test/cache:1"]);
    const manifest = readFileSync(MANIFEST, "utf8")
      .replaceAll("ADDRESS", t.host.address)
      .replaceAll("HOST_KEY", t.host.hostKey);
    program = await evaluateFor(t.host, manifest);
    docker = dockerOverSsh(t.host, program);
  }, 120_000);

  it("bootstraps the host and creates every tenant's objects over ssh as deploy", async () => {
    const bootstrap = await runRecorded(t.host, resource(program, T.command, "vps1-bootstrap"));
    expect(bootstrap.failure).toBeUndefined();
    expect(bootstrap.stdout).toMatch(/tenantry: host vps1 ready\n$/);
    for (const tenant of ["acme", "globex"]) await applyTenant(program, tenant, docker);

    const running = await docker(["ps", "--format", "{{.Names}} {{.Status}}"]);
    expect(running.code).toBe(0);
    expect(
      running.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ")[0])
        .sort(),
    ).toEqual(["acme-cache", "acme-web", "globex-cache", "globex-web"]);
  });

  it("runs each container with the plan's limits, loopback-only ports and its own network only", async () => {
    // Plan small: 64 MB and 0.5 CPU, split evenly between the two services.
    expect(await inspect("acme-web", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}")).toBe(
      `${32 * 1024 * 1024} ${0.25 * 1e9}`,
    );
    expect(await inspect("acme-web", "{{.HostConfig.RestartPolicy.Name}}")).toBe("unless-stopped");
    expect(await inspect("acme-web", "{{json .NetworkSettings.Ports}}")).toBe(
      '{"8000/tcp":[{"HostIp":"127.0.0.1","HostPort":"10010"}]}',
    );
    expect(await inspect("acme-cache", "{{json .NetworkSettings.Ports}}")).toBe("{}");
    for (const tenant of ["acme", "globex"]) {
      for (const service of ["web", "cache"]) {
        expect(
          await inspect(
            `${tenant}-${service}`,
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
          ),
        ).toBe(`${tenant}-net`);
      }
    }
  });

  it("passes the program's own health check inside a minimal image (busybox: wget, no curl)", async () => {
    const recorded = resource(program, T.container, "acme-web").inputs.healthcheck as {
      tests: string[];
    };
    const configured = JSON.parse(
      await inspect("acme-web", "{{json .Config.Healthcheck.Test}}"),
    ) as string[];
    expect(configured).toEqual(recorded.tests);
    const [kind, command] = configured;
    expect(kind).toBe("CMD-SHELL");
    const check = await t.host.docker(["exec", "acme-web", "/bin/sh", "-c", command!]);
    expect(check.code).toBe(0);
    // And it fails when the service does not answer.
    const down = await t.host.docker(["exec", "acme-cache", "/bin/sh", "-c", command!]);
    expect(down.code).not.toBe(0);
  });

  it("lets a tenant's services reach each other by service name", async () => {
    expect(await fromContainer("acme-web", "cache", 6379)).toContain("cache of");
    expect(await fromContainer("globex-web", "cache", 6379)).toContain("cache of");
  });

  it("serves each tenant's Host from its own container through nginx; an unknown Host gets 444", async () => {
    for (const tenant of ["acme", "globex"]) {
      const site = await runRecorded(t.host, resource(program, T.command, `${tenant}-site`));
      expect(site.failure).toBeUndefined();
    }
    const reload = await runRecorded(t.host, resource(program, T.command, "vps1-nginx-reload"));
    expect(reload.stdout).toBe("tenantry: nginx reloaded\n");
    await eventually("both tenants served", async () =>
      (await t.answer("acme.example.com")) === "200 web Acme\n" &&
      (await t.answer("globex.example.com")) === "200 web Globex\n"
        ? true
        : undefined,
    );
    expect(await t.answer("initech.example.com")).toBe("closed without response");
  });

  it("changes nothing when every create runs again: no reload, the same nginx workers", async () => {
    const workers = await t.settledWorkers();
    const again = [
      await runRecorded(t.host, resource(program, T.command, "vps1-bootstrap")),
      await runRecorded(t.host, resource(program, T.command, "acme-site")),
      await runRecorded(t.host, resource(program, T.command, "globex-site")),
      await runRecorded(t.host, resource(program, T.command, "vps1-nginx-reload")),
    ].map((r) => r.stdout);
    expect(again).toEqual([
      "tenantry: host vps1 ready (unchanged)\n",
      "tenantry: site acme unchanged\n",
      "tenantry: site globex unchanged\n",
      "tenantry: no site changed; nginx not reloaded\n",
    ]);
    expect(t.host.nginx.workerPids()).toEqual(workers);
  });

  it("keeps a tenant from reaching another tenant's containers, by IP, by name or via the gateway", async () => {
    const globexWeb = await address("globex-web", "globex-net");
    expect(await fromContainer("globex-web", globexWeb, 8000)).toContain("web Globex"); // it answers
    expect(await fromContainer("acme-web", globexWeb, 8000)).toBe("");
    expect(await fromContainer("acme-web", "globex-web", 8000)).toBe("");
    expect(await fromContainer("acme-web", "globex-cache", 6379)).toBe("");
    const gateway = await inspect(
      "acme-web",
      `{{(index .NetworkSettings.Networks "acme-net").Gateway}}`,
    );
    expect(await fromContainer("acme-web", gateway, 10020)).toBe(""); // globex's published port
  });

  it("answers on no address of the host but loopback, and not to a neighbour that routes to the containers", async () => {
    expect(
      (await t.host.exec(BUSYBOX, ["sh", "-c", HTTP_GET, "127.0.0.1", "10010"])).stdout,
    ).toContain("web Acme");
    expect((await run(BUSYBOX, ["sh", "-c", HTTP_GET, t.host.address, "10010"])).stdout).toBe("");
    expect(await fromNeighbour(t.host.lanAddress, 10010)).toBe("");
    const acmeWeb = await address("acme-web", "acme-net");
    expect(await fromNeighbour(acmeWeb, 8000)).toBe("");
  });

  it("needs its DOCKER-USER rule for that: without it Docker lets the neighbour in, the drop-in puts it back", async () => {
    const acmeWeb = await address("acme-web", "acme-net");
    // What a reboot does to iptables; Docker alone (20.10) then forwards to the container.
    await t.host.execOk("iptables", ["-D", "DOCKER-USER", "-j", ISOLATION_CHAIN]);
    await t.host.execOk("iptables", ["-F", ISOLATION_CHAIN]);
    try {
      expect(await fromNeighbour(acmeWeb, 8000)).toContain("web Acme");
    } finally {
      const dropIn = readFileSync(t.host.file(DOCKER_DROP_IN), "utf8");
      const command = /^ExecStartPost=(.*)$/m.exec(dropIn)?.[1];
      expect(command).toBe(ISOLATION_SCRIPT);
      expect(await t.host.execOk(command!, [])).toBe("changed\n");
    }
    expect(await fromNeighbour(acmeWeb, 8000)).toBe("");
    expect(await t.host.execOk(ISOLATION_SCRIPT, [])).toBe(""); // idempotent
  });

  it("keeps the rule and the containers across a dockerd restart", async () => {
    await t.host.stopDocker();
    await t.host.startDocker();
    await eventually(
      "acme-web to run again (unless-stopped)",
      async () => ((await inspect("acme-web", "{{.State.Running}}")) === "true" ? true : undefined),
      30_000,
    );
    const acmeWeb = await address("acme-web", "acme-net");
    expect(await fromContainer("acme-web", "127.0.0.1", 8000)).toContain("web Acme");
    expect(await fromNeighbour(acmeWeb, 8000)).toBe("");
    const rules = await t.host.execOk("iptables", ["-S", "DOCKER-USER"]);
    expect(rules.split("\n")[1]).toBe(`-A DOCKER-USER -j ${ISOLATION_CHAIN}`);
  });

  it("keeps volume data across a container replacement", async () => {
    await t.host.dockerOk(["exec", "acme-web", "sh", "-c", "echo kept >/data/proof"]);
    // The provider's replacement of a container (delete before replace): remove, create anew
    // from the same inputs; the named volume is not part of the container.
    const r = await docker(["rm", "-f", "acme-web"]);
    expect(r.code).toBe(0);
    const image = (
      await t.host.dockerOk(["image", "inspect", "--format", "{{.Id}}", "tenantry-test/web:1"])
    ).trim();
    for (const args of containerCreateArgs(resource(program, T.container, "acme-web").inputs, {
      imageId: image,
    })) {
      const created = await docker(args);
      expect(created.code, created.stderr).toBe(0);
    }
    expect(await t.host.dockerOk(["exec", "acme-web", "cat", "/data/proof"])).toBe("kept\n");
  });

  it("deletes a tenant's site: its Host is closed, the other tenant still served", async () => {
    const removed = await runRecorded(
      t.host,
      resource(program, T.command, "globex-site"),
      "delete",
    );
    expect(removed.stdout).toBe("tenantry: site globex removed\n");
    await t.expectAnswer("globex.example.com", "closed without response");
    await t.expectAnswer("acme.example.com", "200 web Acme\n");
    const again = await runRemote(
      {
        ...{ connection: t.host.connection() },
        delete: resource(program, T.command, "globex-site").inputs.delete as string,
      },
      "delete",
    );
    expect(again.stdout).toBe("tenantry: site globex already gone\n");
  });
});
