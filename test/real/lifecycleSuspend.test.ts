// Suspend and resume on a real host: the program's inputs for a suspended tenant applied as the
// providers apply them. Its containers stay (start/mustRun update in place, nothing replaced) and
// its suspend step stops them; its site becomes the 503 page with Retry-After on all its domains;
// the other tenant is untouched. Back to active, the provider starts the containers (must_run
// false → true) and the app's site returns, with the same data.
import { request } from "node:http";
import { beforeAll, expect, it } from "vitest";
import type { RecordedResource } from "../../cli/offline";
import { T } from "../program/helpers";
import { useTestHost } from "../support/fixture";
import { applyCommands, edit, importNotesImage, lifecycleManifest } from "../support/lifecycle";
import { describeReal } from "../support/prereq";
import { eventually } from "../support/proc";
import {
  applyTenant,
  dockerOverSsh,
  evaluateFor,
  resource,
  type EvaluatedProgram,
} from "../support/program";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request to nginx on the host with a Host header. */
function http(address: string, host: string, method = "GET", path = "/"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: 80,
        path,
        method,
        headers: { Host: host },
        agent: false,
        timeout: 3000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 3 s")));
    req.on("error", reject);
    req.end(method === "POST" ? "a=1" : undefined);
  });
}

/** A container's inputs that would replace it if they changed: all but start and mustRun. */
const replacing = (r: RecordedResource) =>
  JSON.stringify(Object.entries(r.inputs).filter(([k]) => k !== "start" && k !== "mustRun"));

const COMMANDS = [
  "acme-maintenance",
  "acme-site",
  "acme-suspend",
  "acme-init-admin",
  "acme-backup",
  "globex-site",
  "globex-init-admin",
  "vps1-nginx-reload",
];

describeReal("suspending and resuming a tenant on a real host", ["sqlite3"], () => {
  const t = useTestHost([], { bootstrap: false });
  let active: EvaluatedProgram;
  let suspended: EvaluatedProgram;
  const running = async (c: string) =>
    (await t.host.dockerOk(["inspect", "--format", "{{.State.Running}}", c])).trim();
  const started = async (c: string) =>
    (await t.host.dockerOk(["inspect", "--format", "{{.State.StartedAt}}", c])).trim();

  beforeAll(async () => {
    await importNotesImage(t.host, ["tenantry-test/notes:1"]);
    active = await evaluateFor(t.host, lifecycleManifest(t.host));
    suspended = await evaluateFor(
      t.host,
      lifecycleManifest(t.host, (m) =>
        edit(
          m,
          "    domain: acme.example.com\n",
          "    domain: acme.example.com\n    aliases: [www.acme.example.com]\n    state: suspended\n",
        ),
      ),
    );
    const docker = dockerOverSsh(t.host, active);
    await applyCommands(t.host, undefined, active, ["vps1-bootstrap"]);
    for (const tenant of ["acme", "globex"]) await applyTenant(active, tenant, docker);
    await applyCommands(t.host, undefined, active, [
      "acme-site",
      "globex-site",
      "vps1-nginx-reload",
    ]);
    await t.expectAnswer("acme.example.com", "200 notes Acme\n");
    await t.expectAnswer("globex.example.com", "200 notes Globex\n");
  }, 180_000);

  it("stops the tenant's containers and serves 503 with Retry-After on all its domains; the other tenant is untouched", async () => {
    await t.host.dockerOk(["exec", "acme-web", "sh", "-c", "echo kept >/files/proof"]);
    const globexStarted = await started("globex-web");
    for (const c of ["acme-web", "acme-cache"]) {
      const before = resource(active, T.container, c);
      const after = resource(suspended, T.container, c);
      expect(after.inputs).toMatchObject({ start: false, mustRun: false });
      // Nothing that would replace the container changes: the provider updates it in place,
      // and its Update does nothing to a running container for these two.
      expect(replacing(after)).toBe(replacing(before));
    }
    for (const type of [T.volume, T.password]) {
      const names = (p: EvaluatedProgram) =>
        p.resources
          .filter((r) => r.type === type)
          .map((r) => `${r.name} ${JSON.stringify(r.inputs)}`)
          .sort();
      expect(names(suspended)).toEqual(names(active));
    }

    const applied = await applyCommands(t.host, active, suspended, COMMANDS);
    expect(Object.fromEntries(applied.map((a) => [a.name, a.op]))).toEqual({
      "acme-maintenance": "create",
      "acme-site": "update",
      "acme-suspend": "create",
      "acme-init-admin": "none",
      "acme-backup": "none",
      "globex-site": "none",
      "globex-init-admin": "none",
      "vps1-nginx-reload": "replace",
    });
    expect(applied.find((a) => a.name === "acme-suspend")!.result!.stdout).toBe(
      "tenantry: tenant acme suspended; stopped: acme-web acme-cache\n",
    );
    expect(await running("acme-web")).toBe("false");
    expect(await running("acme-cache")).toBe("false");

    for (const domain of ["acme.example.com", "www.acme.example.com"]) {
      await eventually(
        `${domain} to answer 503`,
        async () => ((await http(t.host.address, domain)).status === 503 ? true : undefined),
        10_000,
      );
      for (const path of ["/", "/some/page"]) {
        const reply = await http(t.host.address, domain, "GET", path);
        expect(reply.status).toBe(503);
        expect(reply.headers["retry-after"]).toBe("600");
        expect(reply.headers["content-type"]).toBe("text/html; charset=utf-8");
        expect(reply.body).toBe("<h1>Back soon</h1>\n");
      }
      const post = await http(t.host.address, domain, "POST", "/api");
      expect(post.status).toBe(503);
      expect(post.headers["retry-after"]).toBe("600");
    }
    expect((await http(t.host.address, "globex.example.com")).body).toBe("notes Globex\n");
    expect(await started("globex-web")).toBe(globexStarted);
    expect(await running("globex-web")).toBe("true");
  }, 120_000);

  it("keeps it stopped across a dockerd restart (restart: unless-stopped)", async () => {
    await t.host.stopDocker();
    await t.host.startDocker();
    await eventually(
      "globex-web to run again",
      async () => ((await running("globex-web")) === "true" ? true : undefined),
      30_000,
    );
    expect(await running("acme-web")).toBe("false");
    expect((await http(t.host.address, "acme.example.com")).status).toBe(503);
  }, 90_000);

  it("resumes with the same data: the provider starts the containers, the app's site returns, the page goes", async () => {
    const resumed = await evaluateFor(t.host, lifecycleManifest(t.host));
    // must_run false → true: the provider's Update starts the container (ContainerStart),
    // resource_docker_container_funcs.go resourceDockerContainerUpdate.
    for (const c of ["acme-web", "acme-cache"]) {
      expect(resource(suspended, T.container, c).inputs.mustRun).toBe(false);
      expect(resource(resumed, T.container, c).inputs.mustRun).toBeUndefined(); // default true
      await t.host.dockerOk(["start", c]);
    }
    const applied = await applyCommands(t.host, suspended, resumed, COMMANDS);
    expect(Object.fromEntries(applied.map((a) => [a.name, a.op]))).toMatchObject({
      "acme-maintenance": "delete",
      "acme-site": "update",
      "acme-suspend": "delete",
      "globex-site": "none",
      "vps1-nginx-reload": "replace",
    });
    await t.expectAnswer("acme.example.com", "200 notes Acme\n");
    expect(await t.host.dockerOk(["exec", "acme-web", "cat", "/files/proof"])).toBe("kept\n");
    expect(
      (await t.host.exec("test", ["-e", "/etc/nginx/tenantry/maintenance/acme.html"])).code,
    ).toBe(1);
    // The alias went with the suspension's edit: nobody serves it now.
    expect(await t.answer("www.acme.example.com")).toBe("closed without response");
  }, 120_000);
});
