// The docker CLI translation real-host tests create the program's Docker objects with: whole argv
// compared for every input the program sends, every other input refused, resources applied after
// what they depend on, and every Docker resource of the example manifest translatable.
import * as path from "node:path";
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { describe, expect, it } from "vitest";
import type { RecordedResource } from "../../cli/offline";
import { byType, evaluate, T } from "../program/helpers";
import {
  applyDockerResources,
  containerCreateArgs,
  networkCreateArgs,
  remoteImageInspectArgs,
  volumeCreateArgs,
  type Argv,
} from "../support/dockerCli";

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });

const IMAGE_ID = `sha256:${"a".repeat(64)}`;
const REAL_ID = `sha256:${"b".repeat(64)}`;

/** A container with every input the program sends, shaped as an offline run records them. */
const FULL_CONTAINER = {
  name: "acme-backend",
  image: IMAGE_ID,
  restart: "unless-stopped",
  memory: 300,
  memorySwap: 300,
  cpus: "0.50",
  envs: secret(["REDIS_HOST=redis", "DB_PASSWORD=mock-placeholder", "EMPTY="]),
  command: ["gunicorn", "-b", "0.0.0.0:8000", "app:app"],
  networksAdvanced: [{ name: "acme-net", aliases: ["backend"] }],
  ports: [{ internal: 8000, external: 10030, ip: "127.0.0.1", protocol: "tcp" }],
  volumes: [
    { volumeName: "acme-backend-data", containerPath: "/app/data" },
    { volumeName: "acme-backend-files", containerPath: "/app/files" },
  ],
  healthcheck: {
    tests: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8000/api/health || exit 1"],
    interval: "30s",
    timeout: "5s",
    startPeriod: "30s",
    retries: 3,
  },
  labels: [
    { label: "tenantry.tenant", value: "acme" },
    { label: "tenantry.service", value: "backend" },
  ],
  logDriver: "json-file",
  logOpts: { "max-size": "10m", "max-file": "3" },
};

describe("containerCreateArgs", () => {
  it("creates, moves to the tenant network and starts, as the provider does", () => {
    expect(containerCreateArgs(FULL_CONTAINER)).toEqual([
      [
        "create",
        "--pull",
        "never",
        "--name",
        "acme-backend",
        "--init=false",
        "--network",
        "bridge",
        "--restart",
        "unless-stopped",
        "--memory",
        "314572800",
        "--memory-swap",
        "314572800",
        "--cpus",
        "0.50",
        "--env",
        "REDIS_HOST=redis",
        "--env",
        "DB_PASSWORD=mock-placeholder",
        "--env",
        "EMPTY=",
        "--publish",
        "127.0.0.1:10030:8000/tcp",
        "--volume",
        "acme-backend-data:/app/data:rw",
        "--volume",
        "/app/data",
        "--volume",
        "acme-backend-files:/app/files:rw",
        "--volume",
        "/app/files",
        "--health-cmd",
        "wget -q -O /dev/null http://127.0.0.1:8000/api/health || exit 1",
        "--health-interval",
        "30s",
        "--health-timeout",
        "5s",
        "--health-start-period",
        "30s",
        "--health-retries",
        "3",
        "--label",
        "tenantry.tenant=acme",
        "--label",
        "tenantry.service=backend",
        "--log-driver",
        "json-file",
        "--log-opt",
        "max-file=3",
        "--log-opt",
        "max-size=10m",
        IMAGE_ID,
        "gunicorn",
        "-b",
        "0.0.0.0:8000",
        "app:app",
      ],
      ["network", "disconnect", "bridge", "acme-backend"],
      ["network", "connect", "--alias", "backend", "acme-net", "acme-backend"],
      ["start", "acme-backend"],
    ]);
  });

  it("runs the image ID of the test host, and leaves out what the program did not send", () => {
    const minimal = { name: "acme-redis", image: IMAGE_ID, ports: [], volumes: [], envs: [] };
    expect(containerCreateArgs(minimal, { imageId: REAL_ID })).toEqual([
      [
        "create",
        "--pull",
        "never",
        "--name",
        "acme-redis",
        "--init=false",
        "--network",
        "bridge",
        "--restart",
        "no",
        REAL_ID,
      ],
      ["start", "acme-redis"],
    ]);
  });

  it("applies the provider's defaults: memory 0 unset, swap -1 as is, port ip and protocol", () => {
    const create = containerCreateArgs({
      name: "c",
      image: IMAGE_ID,
      memory: 0,
      memorySwap: -1,
      ports: [{ internal: 53, external: 5353 }],
    })[0];
    expect(create).toEqual([
      "create",
      "--pull",
      "never",
      "--name",
      "c",
      "--init=false",
      "--network",
      "bridge",
      "--restart",
      "no",
      "--memory-swap",
      "-1",
      "--publish",
      "0.0.0.0:5353:53/tcp",
      IMAGE_ID,
    ]);
  });
});

describe("networkCreateArgs and volumeCreateArgs", () => {
  const labels = [
    { label: "tenantry.tenant", value: "acme" },
    { label: "tenantry.app", value: "frontbase" },
  ];

  it("creates the network with the provider's IPAM driver", () => {
    expect(networkCreateArgs({ name: "acme-net", driver: "bridge", labels })).toEqual([
      "network",
      "create",
      "--driver",
      "bridge",
      "--ipam-driver",
      "default",
      "--label",
      "tenantry.tenant=acme",
      "--label",
      "tenantry.app=frontbase",
      "acme-net",
    ]);
  });

  it("creates the volume", () => {
    expect(volumeCreateArgs({ name: "acme-backend-data", labels })).toEqual([
      "volume",
      "create",
      "--label",
      "tenantry.tenant=acme",
      "--label",
      "tenantry.app=frontbase",
      "acme-backend-data",
    ]);
  });

  it("looks an image up by name instead of pulling it", () => {
    expect(remoteImageInspectArgs({ name: "redis:7-alpine", keepLocally: true })).toEqual([
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      "redis:7-alpine",
    ]);
  });
});

describe("inputs the translation does not know", () => {
  it.each([
    ["container", () => containerCreateArgs({ ...FULL_CONTAINER, privileged: true }), "privileged"],
    [
      "container healthcheck",
      () =>
        containerCreateArgs({
          ...FULL_CONTAINER,
          healthcheck: { ...FULL_CONTAINER.healthcheck, startInterval: "1s" },
        }),
      "healthcheck.startInterval",
    ],
    [
      "container network",
      () =>
        containerCreateArgs({
          ...FULL_CONTAINER,
          networksAdvanced: [{ name: "acme-net", ipv4Address: "10.0.0.2" }],
        }),
      "networksAdvanced[0].ipv4Address",
    ],
    [
      "container volume",
      () =>
        containerCreateArgs({
          ...FULL_CONTAINER,
          volumes: [{ volumeName: "v", containerPath: "/v", readOnly: true }],
        }),
      "volumes[0].readOnly",
    ],
    ["network", () => networkCreateArgs({ name: "n", internal: true }), "internal"],
    ["volume", () => volumeCreateArgs({ name: "v", driver: "local" }), "driver"],
    ["image", () => remoteImageInspectArgs({ name: "i", platform: "linux/arm64" }), "platform"],
  ])("%s", (_what, translate, input) => {
    expect(translate).toThrow(`untranslated input ${input} (`);
  });

  it.each([
    [{ envs: ["A=1", "A=2"] }, "input envs has the key A twice"],
    [{ envs: ["HOME"] }, "input envs has an entry without KEY="],
    [{ command: ["sh", ""] }, "values for command may not be empty"],
    [{ restart: "on-failure:3" }, "input restart must be no, on-failure, always or unless-stopped"],
    [{ memory: "300" }, 'input memory must be an integer >= 0 (got "300")'],
    [
      { healthcheck: { tests: ["CMD", "true"] } },
      'input healthcheck.tests must be ["CMD-SHELL", COMMAND]',
    ],
    [
      {
        labels: [
          { label: "a", value: "1" },
          { label: "a", value: "2" },
        ],
      },
      "input labels must be labels with distinct keys",
    ],
  ])("refuses what the CLI would send differently: %j", (change, message) => {
    expect(() => containerCreateArgs({ ...FULL_CONTAINER, ...change })).toThrow(message);
  });
});

function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  dependencies: string[] = [],
): RecordedResource {
  return {
    type,
    name,
    urn: `urn:${type}::${name}`,
    parent: "",
    inputs,
    provider: "",
    custom: true,
    dependencies,
    retainOnDelete: false,
    deleteBeforeReplace: false,
    deleteBeforeReplaceDefined: false,
    replaceOnChanges: [],
    protect: false,
    additionalSecretOutputs: [],
    sourcePosition: "",
  };
}

/** A docker stand-in that records calls and knows the images in `images` (name → ID). */
function fakeDocker(images: Record<string, string>) {
  const calls: Argv[] = [];
  const docker = (args: Argv): Promise<string> => {
    calls.push(args);
    if (args[0] === "image") {
      const id = images[args[args.length - 1]!];
      return id ? Promise.resolve(`${id}\n`) : Promise.reject(new Error("No such image"));
    }
    // The provider's health poll after a start with `wait`: healthy at once here.
    if (args[0] === "inspect") return Promise.resolve("healthy\n");
    return Promise.resolve("");
  };
  return { calls, docker };
}

describe("applyDockerResources", () => {
  const image = resource(T.image, "vps1-image-redis", { name: "redis:7-alpine" });
  const network = resource(T.network, "acme-net", { name: "acme-net", driver: "bridge" });
  const volume = resource(T.volume, "acme-redis-data", { name: "acme-redis-data" });
  const container = resource(
    T.container,
    "acme-redis",
    {
      name: "acme-redis",
      image: IMAGE_ID,
      networksAdvanced: [{ name: "acme-net", aliases: ["redis"] }],
      volumes: [{ volumeName: "acme-redis-data", containerPath: "/data" }],
    },
    [image.urn, network.urn, volume.urn, "urn:random:index/randomPassword:RandomPassword::pw"],
  );
  const password = resource(T.password, "pw", { length: 32 });

  it("creates each object after its dependencies, with the host's image ID", async () => {
    const { calls, docker } = fakeDocker({ "redis:7-alpine": REAL_ID });
    const made = await applyDockerResources([container, password, volume, network, image], docker);
    expect(made).toEqual(calls);
    expect(calls).toEqual([
      ["image", "inspect", "--format", "{{.Id}}", "redis:7-alpine"],
      ["network", "create", "--driver", "bridge", "--ipam-driver", "default", "acme-net"],
      ["volume", "create", "acme-redis-data"],
      [
        "create",
        "--pull",
        "never",
        "--name",
        "acme-redis",
        "--init=false",
        "--network",
        "bridge",
        "--restart",
        "no",
        "--volume",
        "acme-redis-data:/data:rw",
        "--volume",
        "/data",
        REAL_ID,
      ],
      ["network", "disconnect", "bridge", "acme-redis"],
      ["network", "connect", "--alias", "redis", "acme-net", "acme-redis"],
      ["start", "acme-redis"],
    ]);
  });

  it("stops at an image the host lacks rather than letting anything pull it", async () => {
    const { calls, docker } = fakeDocker({});
    await expect(applyDockerResources([image, network, container], docker)).rejects.toThrow(
      "vps1-image-redis: redis:7-alpine is not on the test daemon; the provider would pull it",
    );
    expect(calls).toEqual([["image", "inspect", "--format", "{{.Id}}", "redis:7-alpine"]]);
  });

  it("needs the host's RemoteImage along with the tenant's resources", async () => {
    const { docker } = fakeDocker({});
    await expect(applyDockerResources([network, volume, container], docker)).rejects.toThrow(
      "acme-redis: depends on 0 of the given RemoteImages, not 1",
    );
  });

  it("refuses a Docker resource type it does not translate", async () => {
    const { docker } = fakeDocker({});
    const built = resource("docker:index/image:Image", "img", { imageName: "x" });
    await expect(applyDockerResources([built], docker)).rejects.toThrow(
      "img: untranslated resource type docker:index/image:Image",
    );
  });
});

it("translates every Docker resource the example manifest declares", async () => {
  const result = await evaluate(path.resolve(__dirname, "../../tenants.yaml"));
  expect(result.ok, result.stderr).toBe(true);
  const resources = result.run!.resources;
  const images = byType(resources, T.image);
  const ids = images.map((r, i): [string, string] => [
    String(r.inputs.name),
    `sha256:${String(i).padStart(64, "0")}`,
  ]);
  const { calls, docker } = fakeDocker(Object.fromEntries(ids));
  await applyDockerResources(resources, docker);

  const containers = byType(resources, T.container);
  expect(containers.length).toBeGreaterThan(0);
  const count = (...prefix: string[]) =>
    calls.filter((c) => prefix.every((word, i) => c[i] === word)).length;
  expect(count("image", "inspect")).toBe(images.length);
  expect(count("network", "create")).toBe(byType(resources, T.network).length);
  expect(count("volume", "create")).toBe(byType(resources, T.volume).length);
  expect(count("create")).toBe(containers.length);
  expect(count("start")).toBe(containers.length);
  // Each rolling container (wait: true) is polled until healthy after its start, as the
  // provider's Create does; the stop-first ones are not.
  const waiting = containers.filter((c) => c.inputs.wait === true);
  expect(waiting.map((c) => c.name)).toEqual(["tenant1-frontend"]);
  expect(count("inspect")).toBe(waiting.length);
  const polled = calls.findIndex((c) => c[0] === "inspect");
  expect(calls[polled - 1]).toEqual(["start", String(waiting[0]!.inputs.name)]);

  // Each container is created only after the image, network and volumes it depends on.
  const made = (r: RecordedResource): number =>
    calls.findIndex((c) => {
      const name = String(r.inputs.name);
      if (r.type === T.container) return c[0] === "create" && c.includes(name);
      const verb = r.type === T.image ? "image" : r.type === T.network ? "network" : "volume";
      return c[0] === verb && c.at(-1) === name;
    });
  for (const c of containers) {
    const deps = resources.filter(
      (r) => c.dependencies.includes(r.urn) && r.type.startsWith("docker:"),
    );
    expect(deps.map((d) => d.type)).toContain(T.network);
    for (const dep of deps) expect(made(dep)).toBeGreaterThanOrEqual(0);
    for (const dep of deps) expect(made(dep)).toBeLessThan(made(c));
  }
});
