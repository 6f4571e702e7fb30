// The Docker objects the program declares, created with the docker CLI the way the Terraform Docker
// provider behind @pulumi/docker creates them, so real-host tests build what `pulumi up` would.
// Inputs come from an offline run (cli/offline.ts RecordedResource); only the inputs the program
// sends are translated, and any other one throws "untranslated input X", so a program change
// cannot be silently dropped here.
//
// Source read: kreuzwerker/terraform-provider-docker v4.5.0, internal/provider/ (the `upstream`
// submodule of pulumi/pulumi-docker from v5.1.0 on; @pulumi/docker 5.2.0's SDK adds one container
// input, deviceCgroupRules, so it bridges a later 4.x whose source was not at hand; none of the
// functions cited here changed between v4.5.0 and the provider's master of 2026-07-22). Citations
// name file:function under internal/provider/. The CLI is Debian's docker 20.10 (/usr/bin/docker).
//
// Known difference the CLI cannot avoid: `docker create` sets Config.AttachStdout/AttachStderr
// (docker/cli opts.go parse), the provider's container.Config leaves them false. It shows only in
// `docker inspect`; a detached container behaves the same.
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import type { RecordedResource } from "../../cli/offline";
import { isSecret } from "../program/helpers";

/** The argv of one docker call, without the leading `docker`. */
export type Argv = readonly string[];

/** Runs `docker ARGS...` against the test daemon and resolves with its stdout; rejects on failure. */
export type DockerCli = (args: Argv) => Promise<string>;

const TYPES = {
  network: "docker:index/network:Network",
  volume: "docker:index/volume:Volume",
  container: "docker:index/container:Container",
  image: "docker:index/remoteImage:RemoteImage",
} as const;

type Plain = Record<string, unknown>;

/**
 * The plain value of a recorded input: secrets unwrapped at any depth (the values under mocks are
 * placeholders, never real secrets, so they may go on a command line).
 */
function plain(value: unknown, where: string): unknown {
  if (isSecret(value)) return plain((value as { value: unknown }).value, where);
  if (value === unknownValue) {
    throw new Error(`${where} is unknown: the mocks supplied no value for it`);
  }
  if (Array.isArray(value)) return value.map((v, i) => plain(v, `${where}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, plain(v, `${where}.${k}`)]),
    );
  }
  return value;
}

/** Typed reads from one recorded input object whose keys must all be in `known`. */
class Reader {
  private constructor(
    private readonly what: string,
    private readonly path: string,
    private readonly values: Plain,
  ) {}

  static of(what: string, path: string, value: unknown, known: readonly string[]): Reader {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new Error(`${what}: input ${path || "(root)"} must be an object (got ${show(value)})`);
    }
    const values = value as Plain;
    for (const key of Object.keys(values)) {
      if (!known.includes(key) && values[key] !== undefined && values[key] !== null) {
        throw new Error(
          `${what}: untranslated input ${path}${key} (test/support/dockerCli.ts translates only ` +
            `the inputs the program sends; add this one there with what the provider does with it)`,
        );
      }
    }
    return new Reader(what, path, values);
  }

  private fail(key: string, expected: string, got: unknown): never {
    throw new Error(
      `${this.what}: input ${this.path}${key} must be ${expected} (got ${show(got)})`,
    );
  }

  has(key: string): boolean {
    return this.values[key] !== undefined && this.values[key] !== null;
  }

  string(key: string): string {
    const v = this.values[key];
    return typeof v === "string" ? v : this.fail(key, "a string", v);
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  integer(key: string, min: number): number {
    const v = this.values[key];
    return typeof v === "number" && Number.isInteger(v) && v >= min
      ? v
      : this.fail(key, `an integer >= ${min}`, v);
  }

  boolean(key: string): boolean {
    const v = this.values[key];
    return typeof v === "boolean" ? v : this.fail(key, "a boolean", v);
  }

  strings(key: string): string[] {
    const v = this.values[key];
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
      return this.fail(key, "a list of strings", v);
    }
    return v;
  }

  /** A list of objects, each read with the keys in `known`. */
  objects(key: string, known: readonly string[]): Reader[] {
    const v = this.values[key];
    if (!Array.isArray(v)) return this.fail(key, "a list", v);
    return v.map((item, i) => Reader.of(this.what, `${this.path}${key}[${i}].`, item, known));
  }

  object(key: string, known: readonly string[]): Reader {
    return Reader.of(this.what, `${this.path}${key}.`, this.values[key], known);
  }

  /** A map of strings, as the provider's TypeMap inputs (log_opts) take it. */
  stringMap(key: string): Array<[string, string]> {
    const v = this.values[key];
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      return this.fail(key, "a map of strings", v);
    }
    const entries = Object.entries(v);
    for (const [k, s] of entries) {
      if (typeof s !== "string") this.fail(`${key}.${k}`, "a string", s);
    }
    // Sorted: the provider sends a Go map, which has no order.
    return (entries as Array<[string, string]>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** A `KEY=VALUE` flag value; the CLI splits at the first "=", so KEY must not hold one. */
  pair(key: string, name: string, value: string): string {
    if (name === "" || name.includes("=")) this.fail(key, "keys without '=' and not empty", name);
    return `${name}=${value}`;
  }

  /** `[{label, value}]` (the provider's labelSchema) as `--label` flags, refusing duplicates. */
  labels(key: string): string[] {
    const seen = new Set<string>();
    return this.objects(key, ["label", "value"]).flatMap((l) => {
      const name = l.string("label");
      // labelSetToMap (helpers.go) keeps one value per key, in the set's hash order: with a
      // duplicate the CLI's last-wins would not be the provider's choice.
      if (seen.has(name)) this.fail(key, "labels with distinct keys", name);
      seen.add(name);
      return ["--label", this.pair(key, name, l.string("value"))];
    });
  }
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function recorded(inputs: Record<string, unknown>): Plain {
  return plain(inputs, "inputs") as Plain;
}

/** `docker network create` for a docker.Network's inputs. */
export function networkCreateArgs(inputs: Record<string, unknown>): Argv {
  const values = recorded(inputs);
  const r = Reader.of(`network ${String(values.name)}`, "", values, ["name", "driver", "labels"]);
  // resource_docker_network_funcs.go:resourceDockerNetworkCreate sends NetworkCreate(name, opts).
  // Its client (moby client/network_create.go NetworkCreate) sets CheckDuplicate on API < 1.44,
  // as docker 20.10's `network create` does: a second network of the same name is refused.
  const name = r.string("name");
  const args = ["network", "create"];
  // driver: CreateOptions.Driver when set; unset, the daemon's default (bridge), which is also
  // the CLI's default, so the flag appears only when the program gives one.
  const driver = r.optionalString("driver");
  if (driver !== undefined) args.push("--driver", driver);
  // ipam_driver has schema Default "default", so the provider always sends IPAM{Driver:
  // "default"} (the CLI sends the same IPAM by default; the flag states it).
  args.push("--ipam-driver", "default");
  // labels: CreateOptions.Labels = labelSetToMap(labels).
  if (r.has("labels")) args.push(...r.labels("labels"));
  args.push(name);
  return args;
}

/** `docker volume create` for a docker.Volume's inputs. */
export function volumeCreateArgs(inputs: Record<string, unknown>): Argv {
  const values = recorded(inputs);
  const r = Reader.of(`volume ${String(values.name)}`, "", values, ["name", "labels"]);
  // resource_docker_volume.go:resourceDockerVolumeCreate sends VolumeCreate{Name, Labels}, with
  // Driver "" (the daemon's "local"; the CLI sends "local" itself). The daemon returns an
  // existing volume of that name unchanged, labels included, for both.
  const name = r.string("name");
  const args = ["volume", "create"];
  if (r.has("labels")) args.push(...r.labels("labels"));
  args.push(name);
  return args;
}

/**
 * What the provider does for a docker.RemoteImage: resource_docker_image_funcs.go
 * resourceDockerImageCreate calls findImage, which looks the name up locally (ImageInspect plus
 * ImageList) and pulls only when it is absent. Tests `docker import` the images with the
 * manifest's tags beforehand, so this inspect is the whole of it: it prints the image ID the
 * containers run (the `image_id` the resource reads back). Nothing is ever pulled here.
 */
export function remoteImageInspectArgs(inputs: Record<string, unknown>): Argv {
  const values = recorded(inputs);
  const r = Reader.of(`image ${String(values.name)}`, "", values, ["name", "keepLocally"]);
  // keep_locally only matters on destroy: removeImage returns before ImageRemove when it is true.
  if (r.has("keepLocally")) r.boolean("keepLocally");
  return ["image", "inspect", "--format", "{{.Id}}", r.string("name")];
}

const CONTAINER_INPUTS = [
  "name",
  "image",
  "restart",
  "memory",
  "memorySwap",
  "cpus",
  "envs",
  "command",
  "networksAdvanced",
  "ports",
  "volumes",
  "healthcheck",
  "labels",
  "logDriver",
  "logOpts",
  "start",
  "mustRun",
  "wait",
  "waitTimeout",
] as const;

/**
 * The docker calls resource_docker_container_funcs.go:resourceDockerContainerCreate makes for a
 * docker.Container's inputs, in its order: create, then (with networksAdvanced) disconnect from
 * the default bridge and connect to each network, then start. `imageId` replaces the recorded
 * `image` (under mocks, a made-up RemoteImage ID) with the ID on the test host.
 */
export function containerCreateArgs(
  inputs: Record<string, unknown>,
  options: { imageId?: string } = {},
): Argv[] {
  const values = recorded(inputs);
  const r = Reader.of(`container ${String(values.name)}`, "", values, CONTAINER_INPUTS);
  const name = r.string("name");
  const recordedImage = r.string("image");
  const image = options.imageId ?? recordedImage;

  // Before ContainerCreate the provider runs findImage(image) (resource_docker_image_funcs.go),
  // which finds a local image and pulls only a missing one; `docker create` would pull on its
  // own, so `--pull never` keeps the CLI to the local lookup.
  // name: the ContainerCreate name (ForceNew in resource_docker_container.go).
  const create = ["create", "--pull", "never", "--name", name];

  // init is Optional+Computed and unset, so `d.Get("init").(bool)` is false and the provider
  // always sends HostConfig.Init=&false (not null): the daemon's own `init` default never
  // applies. `--init=false` is the CLI's way to send that pointer.
  create.push("--init=false");

  // network_mode has schema Default "bridge" and is sent as HostConfig.NetworkMode; the CLI
  // would send "default" without the flag (the same network on Linux, another inspect value).
  create.push("--network", "bridge");

  // restart: HostConfig.RestartPolicy{Name, MaximumRetryCount: max_retry_count (0)}; schema
  // Default "no", validated against ^(no|on-failure|always|unless-stopped)$.
  const restart = r.optionalString("restart") ?? "no";
  if (!/^(no|on-failure|always|unless-stopped)$/.test(restart)) {
    throw new Error(
      `container ${name}: input restart must be no, on-failure, always or unless-stopped (got ${show(restart)})`,
    );
  }
  create.push("--restart", restart);

  // memory: HostConfig.Memory = MB * 1024 * 1024, sent only when non-zero (GetOk). The CLI reads
  // a bare number as bytes, so the product goes on the command line as the provider computes it.
  if (r.has("memory")) {
    const mb = r.integer("memory", 0);
    if (mb > 0) create.push("--memory", String(mb * 1024 * 1024));
  }

  // memorySwap: sent only when non-zero (GetOk); > 0 is MB * 1024 * 1024, -1 (unlimited) as is.
  if (r.has("memorySwap")) {
    const mb = r.integer("memorySwap", -1);
    if (mb !== 0) create.push("--memory-swap", String(mb > 0 ? mb * 1024 * 1024 : mb));
  }

  // cpus: HostConfig.NanoCPUs = opts.ParseCPUs(cpus) from docker/cli, the function the CLI's
  // --cpus flag parses with, so the string passes verbatim ("0.50" -> 500000000).
  if (r.has("cpus")) create.push("--cpus", r.string("cpus"));

  // envs: Config.Env = stringSetToStringSlice(env): a TypeSet, so the daemon gets them in hash
  // order, not the program's (and docker 20.10's CLI reorders --env too: seen on this host).
  // Order is immaterial only without duplicate keys, so those are refused; an entry without "="
  // is refused too, since `docker create -e KEY` copies KEY from the client's environment.
  if (r.has("envs")) {
    const keys = new Set<string>();
    for (const env of r.strings("envs")) {
      const eq = env.indexOf("=");
      const key = env.slice(0, Math.max(eq, 0));
      if (eq <= 0 || keys.has(key)) {
        const problem = eq <= 0 ? "an entry without KEY=" : `the key ${key} twice`;
        throw new Error(`container ${name}: input envs has ${problem} (KEY=VALUE, keys distinct)`);
      }
      keys.add(key);
      create.push("--env", env);
    }
  }

  // ports: portSetToDockerPorts (resource_docker_container_structures.go) exposes
  // "internal/protocol" and binds it to {HostIP: ip, HostPort: external}; schema defaults are
  // ip "0.0.0.0" and protocol "tcp". `-p IP:EXT:INT/PROTO` sends the same two maps.
  if (r.has("ports")) {
    for (const p of r.objects("ports", ["internal", "external", "ip", "protocol"])) {
      const ip = p.optionalString("ip") ?? "0.0.0.0";
      const host = ip.includes(":") ? `[${ip}]` : ip;
      const protocol = p.optionalString("protocol") ?? "tcp";
      create.push(
        "--publish",
        `${host}:${p.integer("external", 1)}:${p.integer("internal", 1)}/${protocol}`,
      );
    }
  }

  // volumes: volumeSetToDockerVolumes (resource_docker_container_structures.go) turns
  // {volume_name, container_path} into Binds "NAME:PATH:rw" and also sets Config.Volumes[PATH].
  // The CLI puts `-v NAME:PATH:rw` in Binds only; the second `-v PATH` adds the Config.Volumes
  // entry, and the daemon mounts the named volume there (no anonymous volume: checked against
  // dockerd 20.10).
  if (r.has("volumes")) {
    for (const v of r.objects("volumes", ["volumeName", "containerPath"])) {
      const path = v.string("containerPath");
      create.push("--volume", `${v.string("volumeName")}:${path}:rw`, "--volume", path);
    }
  }

  // healthcheck: Config.Healthcheck{Test, Interval, Timeout, StartPeriod, StartInterval,
  // Retries}, durations through time.ParseDuration (the CLI's duration flags use it too), schema
  // defaults "0s" and 0, which the daemon fills from the image. `--health-cmd CMD` sends
  // Test ["CMD-SHELL", CMD]: only that form is translated (docker 20.10 has no
  // --health-start-interval either).
  if (r.has("healthcheck")) {
    const h = r.object("healthcheck", ["tests", "interval", "timeout", "startPeriod", "retries"]);
    const tests = h.strings("tests");
    if (tests.length !== 2 || tests[0] !== "CMD-SHELL") {
      throw new Error(
        `container ${name}: input healthcheck.tests must be ["CMD-SHELL", COMMAND] (got ${show(tests)})`,
      );
    }
    create.push("--health-cmd", tests[1]!);
    for (const [key, flag] of [
      ["interval", "--health-interval"],
      ["timeout", "--health-timeout"],
      ["startPeriod", "--health-start-period"],
    ] as const) {
      const duration = h.optionalString(key);
      if (duration !== undefined) create.push(flag, duration);
    }
    if (h.has("retries")) create.push("--health-retries", String(h.integer("retries", 0)));
  }

  // labels: Config.Labels = labelSetToMap(labels) (helpers.go).
  if (r.has("labels")) create.push(...r.labels("labels"));

  // logDriver: HostConfig.LogConfig.Type (Computed; "" when unset, the daemon's default).
  const logDriver = r.optionalString("logDriver");
  if (logDriver !== undefined) create.push("--log-driver", logDriver);

  // logOpts: HostConfig.LogConfig.Config = mapTypeMapValsToString(log_opts).
  if (r.has("logOpts")) {
    for (const [key, value] of r.stringMap("logOpts")) {
      create.push("--log-opt", r.pair("logOpts", key, value));
    }
  }

  // command: Config.Cmd, after the image; the provider refuses empty elements with this message.
  const command = r.has("command") ? r.strings("command") : [];
  if (command.includes("")) {
    throw new Error(`container ${name}: values for command may not be empty`);
  }
  create.push(image, ...command);

  const calls: Argv[] = [create];

  // networksAdvanced: after ContainerCreate the provider calls NetworkDisconnect("bridge", id,
  // force=false), then NetworkConnect(name, id, {Aliases: aliases}) for each entry, in the set's
  // hash order (the program sends one network). Without networksAdvanced the container stays on
  // the default bridge.
  if (r.has("networksAdvanced")) {
    const networks = r.objects("networksAdvanced", ["name", "aliases"]);
    if (networks.length > 0) calls.push(["network", "disconnect", "bridge", name]);
    for (const n of networks) {
      const aliases = n.has("aliases") ? n.strings("aliases") : [];
      calls.push([
        "network",
        "connect",
        ...aliases.flatMap((a) => ["--alias", a]),
        n.string("name"),
        name,
      ]);
    }
  }

  // start has schema Default true: ContainerStart. The other defaults add no call: wait=false
  // (no health wait), attach=false (detached), rm=false, tty/stdin_open=false. must_run=true
  // only acts in Read/Update: a container found stopped gets must_run=false in state, a diff,
  // and a ContainerStart on the next update.
  // start false (a suspended tenant's container): created, not started (the `if
  // d.Get("start").(bool)` around ContainerStart in resourceDockerContainerCreate). must_run
  // acts only in Read and Update (see above), so it adds no call at create.
  if (r.has("mustRun")) r.boolean("mustRun");
  if (r.has("wait")) r.boolean("wait");
  if (r.has("waitTimeout")) r.integer("waitTimeout", 1);
  if (!r.has("start") || r.boolean("start")) calls.push(["start", name]);
  return calls;
}

/**
 * After the start, with `wait` true, resourceDockerContainerCreate polls ContainerInspect once a
 * second until State.Health.Status is "healthy", failing at `waitTimeout` seconds (default 60)
 * with errContainerFailedToBeInHealthyState, or at once when the container has no health check
 * (resource_docker_container_funcs.go). Undefined when the create does not wait.
 */
export function containerWait(
  inputs: Record<string, unknown>,
): { name: string; timeoutSeconds: number } | undefined {
  const values = recorded(inputs);
  if (values.wait !== true || values.start === false) return undefined;
  const timeout = values.waitTimeout;
  return {
    name: String(values.name),
    timeoutSeconds: typeof timeout === "number" ? timeout : 60,
  };
}

/** The provider's health wait, through `docker inspect` (see containerWait). */
export async function waitHealthy(
  docker: DockerCli,
  wait: { name: string; timeoutSeconds: number },
): Promise<void> {
  const deadline = Date.now() + wait.timeoutSeconds * 1000;
  for (;;) {
    const health = (
      await docker([
        "inspect",
        "--format",
        "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
        wait.name,
      ])
    ).trim();
    if (health === "none") {
      throw new Error(
        `container ${wait.name}: you have supplied a 'wait' argument, but the container does not have a healthcheck defined`,
      );
    }
    if (health === "healthy") return;
    if (Date.now() > deadline) {
      throw new Error(`container ${wait.name} failed to be in healthy state in time`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Docker resources in an order where each comes after the ones it depends on. */
function dependencyOrder(resources: readonly RecordedResource[]): RecordedResource[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const placed = new Set<string>();
  const ordered: RecordedResource[] = [];
  const visiting = new Set<string>();
  const place = (r: RecordedResource): void => {
    if (placed.has(r.urn)) return;
    if (visiting.has(r.urn)) throw new Error(`dependency cycle through ${r.urn}`);
    visiting.add(r.urn);
    for (const dep of r.dependencies) {
      const d = byUrn.get(dep);
      if (d !== undefined) place(d);
    }
    visiting.delete(r.urn);
    placed.add(r.urn);
    ordered.push(r);
  };
  resources.forEach(place);
  return ordered;
}

/**
 * Creates a tenant's recorded Docker objects on the test daemon, each after what it depends on:
 * images are looked up (never pulled), then networks, volumes and containers are created. Pass
 * the tenant's resources together with its host's RemoteImages: a container runs the ID its
 * image's lookup printed. Resolves with every call made, in order.
 */
export async function applyDockerResources(
  resources: readonly RecordedResource[],
  docker: DockerCli,
): Promise<Argv[]> {
  const own = resources.filter((r) => r.type.startsWith("docker:"));
  const translated: readonly string[] = Object.values(TYPES);
  for (const r of own) {
    if (!translated.includes(r.type)) {
      throw new Error(
        `${r.name}: untranslated resource type ${r.type} (test/support/dockerCli.ts)`,
      );
    }
  }
  const imageIds = new Map<string, string>();
  const calls: Argv[] = [];
  const call = async (args: Argv): Promise<string> => {
    calls.push(args);
    return docker(args);
  };
  for (const r of dependencyOrder(own)) {
    switch (r.type) {
      case TYPES.image: {
        let id: string;
        try {
          id = (await call(remoteImageInspectArgs(r.inputs))).trim();
        } catch (err) {
          throw new Error(
            `${r.name}: ${String(r.inputs.name)} is not on the test daemon; the provider would ` +
              `pull it (findImage), which these tests never do: \`docker import\` it first`,
            { cause: err },
          );
        }
        if (!/^sha256:[0-9a-f]{64}$/.test(id)) {
          throw new Error(`${r.name}: image inspect printed ${show(id)}, not an image ID`);
        }
        imageIds.set(r.urn, id);
        break;
      }
      case TYPES.network:
        await call(networkCreateArgs(r.inputs));
        break;
      case TYPES.volume:
        await call(volumeCreateArgs(r.inputs));
        break;
      case TYPES.container: {
        const images = r.dependencies.filter((d) => imageIds.has(d));
        if (images.length !== 1) {
          throw new Error(
            `${r.name}: depends on ${images.length} of the given RemoteImages, not 1; pass the ` +
              `host's RemoteImage resources along with the tenant's`,
          );
        }
        for (const args of containerCreateArgs(r.inputs, { imageId: imageIds.get(images[0]!)! })) {
          await call(args);
        }
        const wait = containerWait(r.inputs);
        if (wait !== undefined) await waitHealthy(call, wait);
        break;
      }
    }
  }
  return calls;
}
