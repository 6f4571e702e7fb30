// The TenantInstance component: one customer's network, volumes, secrets, containers, DNS
// records and nginx site on its host. Wiring only: what to create comes from plan/, the text
// that runs on the host from remote/. One small function per concern, as pulumi-eks splits its
// cluster, so the constructor reads as the list of what a tenant gets.
import * as cloudflare from "@pulumi/cloudflare";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { createHash } from "node:crypto";
import { providerCpus } from "../core/dockerValues";
import {
  GENERATION_BYTES,
  generationContainerName,
  generationResourceName,
  healthWaitSeconds,
  laneAddress,
} from "../core/rollout";
import {
  dnsResourceName,
  legacyDnsResourceName,
  networkName,
  secretResourceName,
  siteResourceName,
} from "../core/names";
import { dnsSummary, type DnsSummary } from "../plan/dns";
import { withUpstreams } from "../plan/site";
import { previousResourceName } from "../plan/lifecycle";
import type { ServicePlan, TenantPlan } from "../plan/tenant";
import { CONTAINER_LABEL } from "../remote/containers";
import { healthCheckCommand } from "../remote/health";
import { tenantTlsCommand, tenantTlsRemoveCommand } from "../remote/tls";
import { siteInstallCommand, siteRemoveCommand } from "../remote/scripts";
import {
  backupSetupCommand,
  backupSetupStdin,
  backupUnscheduleCommand,
  toolCommand,
} from "../remote/backup";
import { initCommands, initEnvironment } from "../remote/init";
import { maintenanceCommands, siteText, suspendCommand, tlsSiteText } from "../remote/maintenance";
import type { TenantHost } from "./host";

export interface TenantInstanceArgs {
  /** What this tenant gets (plan/tenant.ts). */
  readonly plan: TenantPlan;
  /** The tenant's host: Docker provider, SSH connection, bootstrap, images. */
  readonly host: TenantHost;
  /** Values of the tenant's secretEnv keys, from stack config. Must be Pulumi secrets. */
  readonly configSecrets: Readonly<Record<string, pulumi.Output<string>>>;
  /** Credentials of the host's offsite backup repository (env name → secret), if it has one. */
  readonly offsiteSecrets?: Readonly<Record<string, pulumi.Output<string>>>;
  readonly providers: {
    readonly command: command.Provider;
    readonly random: random.Provider;
    /** Needed only when a domain of the tenant falls in a managed zone. */
    readonly cloudflare?: cloudflare.Provider;
  };
}

type Label = { label: string; value: string };

export class TenantInstance extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly domain: pulumi.Output<string>;
  public readonly hostName: pulumi.Output<string>;
  public readonly ports: pulumi.Output<Record<string, number>>;
  public readonly dns: pulumi.Output<DnsSummary[]>;
  /** None while decommissioned (containers, network, site and DNS records are gone). */
  public readonly network: docker.Network | undefined;
  public readonly containers: readonly docker.Container[];
  public readonly site: command.remote.Command | undefined;
  public readonly state: pulumi.Output<string>;
  /** Secrets its init steps name (e.g. the first admin's password): secret outputs. */
  public readonly initSecrets: pulumi.Output<Record<string, string>>;
  /** Its TLS step (certificate, HTTPS server, redirect); none for tls: none. */
  public readonly tls: command.remote.Command | undefined;

  constructor(name: string, args: TenantInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenantry:index:TenantInstance", name, {}, renameOptions(name, args.plan, opts));
    const { plan } = args;
    // Only what never changes for the object goes on networks and volumes: labels force their
    // replacement, Docker returns an existing volume with its old labels, and a network with
    // containers attached cannot be replaced. Containers are replaced anyway when the app changes.
    // The name on the host: the old one after a rename (plan/lifecycle.ts identity).
    const tenantLabel: Label = { label: "tenantry.tenant", value: plan.lifecycle.identity };

    const secrets = createSecrets(this, name, args);
    if (plan.lifecycle.runs) {
      const network = createNetwork(this, name, args, [tenantLabel]);
      this.network = network;
      const running = plan.services.map((service) =>
        createContainer(this, name, args, service, {
          network,
          secrets,
          tenantLabel,
          labels: [
            tenantLabel,
            { label: "tenantry.app", value: plan.app },
            { label: "tenantry.service", value: service.name },
          ],
        }),
      );
      this.containers = running.map((r) => r.container);
      const upstreams = rollingUpstreams(plan, running);
      this.site = createSite(this, name, args, createMaintenancePage(this, name, args), upstreams);
      createDnsRecords(this, name, args, this.site);
      this.tls = createCertificate(this, name, args, this.site, upstreams);
      createSuspension(this, name, args, this.containers);
    } else {
      // Decommissioned: the data stays, in the stack and on the host (README, "Off-boarding").
      for (const service of plan.services) {
        createVolumes(this, args, service, [
          tenantLabel,
          { label: "tenantry.service", value: service.name },
        ]);
      }
      this.network = undefined;
      this.containers = [];
      this.site = undefined;
      this.tls = undefined;
    }
    // In every state: a decommissioned tenant keeps its steps (unchanged, they run nothing), so
    // making it active again does not run them again.
    createInit(this, name, args, this.containers, secrets);
    createBackups(this, name, args, secrets);

    this.url = pulumi.output(plan.url);
    this.domain = pulumi.output(plan.domain);
    this.hostName = pulumi.output(plan.host);
    this.ports = pulumi.output({ ...plan.ports });
    this.dns = pulumi.output(plan.dns.map(dnsSummary));
    this.state = pulumi.output(plan.lifecycle.state);
    this.initSecrets = pulumi.secret(
      pulumi.all(
        Object.fromEntries(plan.lifecycle.initSecrets.map((s) => [s, secrets.get(s)!] as const)),
      ),
    );
    this.registerOutputs({
      state: this.state,
      initSecrets: this.initSecrets,
      url: this.url,
      domain: this.domain,
      host: this.hostName,
      ports: this.ports,
      dns: this.dns,
    });
  }
}

/**
 * A tenant's Docker objects are replaced when it moves to another host. Without this the move
 * would not touch them at all: a resource whose provider changes is diffed by its inputs alone
 * unless the new provider's DiffConfig asks for a replacement (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go providerChanged), and the Docker provider's never does
 * (pulumi/pulumi-docker provider/resources.go marks no config key ForcesProviderReplace;
 * pulumi-terraform-bridge pkg/tfbridge/provider.go configDiffer): the state would claim the
 * containers on the new host while they keep running on the old one. The engine records the
 * trigger from the first `pulumi up` that sends it (a recorded null triggers nothing:
 * step_generator.go shouldTriggerReplace; Pulumi 3.208 or later).
 */
function onHost(plan: TenantPlan): { replacementTrigger: string } {
  return { replacementTrigger: plan.host };
}

/** Its own network: containers reach each other by service name and no other tenant's. */
function createNetwork(
  parent: TenantInstance,
  name: string,
  { host, plan }: TenantInstanceArgs,
  labels: Label[],
): docker.Network {
  return new docker.Network(
    networkName(name),
    { name: networkName(plan.lifecycle.identity), driver: "bridge", labels },
    { parent, provider: host.docker, dependsOn: [host.bootstrap], ...onHost(plan) },
  );
}

/** One generated password per secret name: secret name → value (a Pulumi secret). */
function createSecrets(
  parent: TenantInstance,
  name: string,
  { plan, providers }: TenantInstanceArgs,
): Map<string, pulumi.Output<string>> {
  const secrets = new Map<string, pulumi.Output<string>>();
  for (const secret of plan.secrets) {
    const password = new random.RandomPassword(
      secretResourceName(name, secret),
      // Letters and digits only: safe in URLs, env files and connection strings.
      { length: 32, special: false },
      { parent, provider: providers.random },
    );
    secrets.set(secret, pulumi.secret(password.result));
  }
  return secrets;
}

/**
 * A service's volumes. Tenant data outlives its entry in tenants.yaml: removing a tenant (or
 * renaming it) drops a volume from the stack but keeps it on the host (README, "Removing a
 * tenant, and its data").
 */
function createVolumes(
  parent: TenantInstance,
  { host, plan }: TenantInstanceArgs,
  service: ServicePlan,
  labels: Label[],
): docker.Volume[] {
  return service.volumes.map(
    (v) =>
      new docker.Volume(
        v.volumeName,
        { name: v.volumeName, labels },
        {
          parent,
          provider: host.docker,
          retainOnDelete: true,
          dependsOn: [host.bootstrap],
          ...onHost(plan),
        },
      ),
  );
}

/** The container's environment: plain values, then generated and configured secrets. */
function containerEnv(
  args: TenantInstanceArgs,
  service: ServicePlan,
  secrets: ReadonlyMap<string, pulumi.Output<string>>,
): { envs: pulumi.Input<pulumi.Input<string>[]>; secret: boolean } {
  const envs: pulumi.Input<string>[] = [
    ...Object.entries(service.env).map(([k, v]) => `${k}=${v}`),
    ...service.generatedSecrets.map(
      ({ env, secret }) => pulumi.interpolate`${env}=${secrets.get(secret)!}`,
    ),
    ...service.configSecrets.map((key) => pulumi.interpolate`${key}=${args.configSecrets[key]!}`),
  ];
  const secret = service.generatedSecrets.length + service.configSecrets.length > 0;
  return { envs: secret ? pulumi.secret(envs) : envs, secret };
}

/** A service's container, and for a rolling one the loopback address its port is on. */
interface RunningService {
  readonly service: ServicePlan;
  readonly container: docker.Container;
  /** Rolling services only: the generation's address (core/rollout.ts laneAddress). */
  readonly address?: pulumi.Output<string>;
}

/** Docker's health check settings; `wait` of a rolling replacement is derived from them. */
const HEALTH = { timeout: "5s", retries: 3, startPeriodSeconds: 30 } as const;

function createContainer(
  parent: TenantInstance,
  name: string,
  args: TenantInstanceArgs,
  service: ServicePlan,
  wiring: {
    network: docker.Network;
    secrets: ReadonlyMap<string, pulumi.Output<string>>;
    tenantLabel: Label;
    labels: Label[];
  },
): RunningService {
  const { host } = args;
  const volumes = createVolumes(parent, args, service, [
    wiring.tenantLabel,
    { label: "tenantry.service", value: service.name },
  ]);
  const image = host.images.get(service.image);
  if (image === undefined) {
    throw new pulumi.ResourceError(
      `host ${host.name} does not pull image ${service.image}`,
      parent,
    );
  }
  const env = containerEnv(args, service, wiring.secrets);
  // A rolling service has a health check (manifest/rolloutRules.ts); its wait needs one.
  const rollingHealth = service.rollout === "rolling" ? service.health : undefined;
  const rolling = rollingHealth !== undefined;
  // What the container runs: a change of any of these replaces it (the provider's ForceNew
  // inputs). Memory, restart policy and start/mustRun update in place and stay out.
  const spec = {
    image,
    cpus: providerCpus(service.cpus),
    envs: env.envs,
    command: service.command ? [...service.command] : undefined,
    // Only the tenant's network (the provider detaches the default bridge), with the
    // service name as alias: `redis:6379` works as it did under Compose.
    networksAdvanced: [{ name: wiring.network.name, aliases: [service.name] }],
    volumes: service.volumes.map((v, i) => ({
      volumeName: volumes[i]!.name,
      containerPath: v.path,
    })),
    healthcheck: service.health
      ? {
          tests: healthCheckCommand(service.health.port, service.health.path),
          interval: `${service.health.intervalSeconds}s`,
          timeout: HEALTH.timeout,
          retries: HEALTH.retries,
          startPeriod: `${HEALTH.startPeriodSeconds}s`,
        }
      : undefined,
    labels: rolling
      ? [...wiring.labels, { label: CONTAINER_LABEL, value: service.containerName }]
      : wiring.labels,
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "3" },
  };
  const generation = rolling ? createGeneration(parent, args, service, spec) : undefined;
  const address = generation?.hex.apply(laneAddress);
  const published = (ip: pulumi.Input<string>) =>
    service.hostPort !== undefined && service.port !== undefined
      ? [{ internal: service.port, external: service.hostPort, ip, protocol: "tcp" }]
      : [];
  const container = new docker.Container(
    service.containerName,
    {
      ...spec,
      name:
        generation === undefined
          ? service.containerName
          : generation.hex.apply((hex) => generationContainerName(service.containerName, hex)),
      restart: "unless-stopped",
      memory: service.memoryMb,
      memorySwap: service.memoryMb,
      // Published on loopback only; the host's firewall rule (remote/scripts.ts isolation
      // chain) keeps every other interface from reaching the container: nginx is the only
      // public entry. A rolling service's generation has an address of its own on loopback.
      ports: published(address ?? "127.0.0.1"),
      ...suspendedInputs(args.plan),
      // A rolling replacement is created healthy before nginx switches to it: the provider
      // polls the health status after the start until healthy or waitTimeout (kreuzwerker
      // terraform-provider-docker v4.5.0 resource_docker_container_funcs.go, `wait`).
      ...(rollingHealth !== undefined
        ? {
            wait: true,
            waitTimeout: healthWaitSeconds({
              intervalSeconds: rollingHealth.intervalSeconds,
              startPeriodSeconds: HEALTH.startPeriodSeconds,
              retries: HEALTH.retries,
            }),
          }
        : {}),
    },
    {
      parent,
      provider: host.docker,
      ...onHost(args.plan),
      additionalSecretOutputs: env.secret ? ["envs"] : [],
      // Deleted before the host's cleanup of its image runs (components/host.ts imageCleanups).
      dependsOn: [
        ...(host.imageCleanups.has(service.image) ? [host.imageCleanups.get(service.image)!] : []),
      ],
      // The provider neither updates a changed health check nor replaces for it (it only
      // records it in state), so a new check would never reach the container: replace instead.
      replaceOnChanges: ["healthcheck"],
      // Rolling: create the new generation first, then delete the old one. The option wins over
      // the provider's DeleteBeforeReplace, true or false (pulumi/pulumi
      // pkg/resource/deploy/step_generator.go: "The user can override the provider's decision by
      // setting the `deleteBeforeReplace` field"), and the engine deletes replaced resources only
      // after every step the program registered, the site's switch included (its
      // deployment_executor.go Execute: performPostSteps once the program is done).
      ...(rolling ? { deleteBeforeReplace: false } : {}),
    },
  );
  if (address === undefined) return { service, container };
  // From the container's own output: the site waits for the new generation to be healthy.
  const upstream = container.ports.apply((ports) => ports?.[0]?.ip ?? "127.0.0.1");
  return { service, container, address: upstream };
}

/**
 * A rolling service's generation: 3 random bytes, new whenever what the container runs
 * changes (`keepers`: pulumi-random replaces a RandomId when they change). Its hex names the
 * container and gives its address, so old and new never collide. The keepers are a digest of
 * the spec, secret env values included, kept as a Pulumi secret.
 */
function createGeneration(
  parent: TenantInstance,
  { providers }: TenantInstanceArgs,
  service: ServicePlan,
  spec: Record<string, unknown>,
): random.RandomId {
  // The published port too: a new slot must not reuse the name the old container holds.
  const runs = { ...spec, published: [service.port ?? null, service.hostPort ?? null] };
  const digest = pulumi.secret(
    pulumi.output(runs).apply((v) => createHash("sha256").update(JSON.stringify(v)).digest("hex")),
  );
  return new random.RandomId(
    generationResourceName(service.containerName),
    { byteLength: GENERATION_BYTES, keepers: { spec: digest } },
    { parent, provider: providers.random },
  );
}

/** Each rolling routed service's address, for the site (service → address). */
function rollingUpstreams(
  plan: TenantPlan,
  running: readonly RunningService[],
): pulumi.Output<Record<string, string>> | undefined {
  const routed = running.filter(
    (r) => r.address !== undefined && plan.site.routes.some((x) => x.service === r.service.name),
  );
  if (routed.length === 0) return undefined;
  const addresses: Record<string, pulumi.Output<string>> = Object.fromEntries(
    routed.map((r) => [r.service.name, r.address!] as const),
  );
  return pulumi.all(addresses);
}

/** A Cloudflare record for each of the tenant's domains that falls in a managed zone. */
function createDnsRecords(
  parent: TenantInstance,
  name: string,
  { plan, providers }: TenantInstanceArgs,
  site: command.remote.Command,
): void {
  for (const [i, dns] of plan.dns.entries()) {
    if (!dns.managed) continue;
    if (providers.cloudflare === undefined) {
      throw new pulumi.ResourceError(
        `${dns.domain} is in a managed zone but no Cloudflare provider was given`,
        parent,
      );
    }
    const legacy = legacyDnsResourceName(name, dns.domain, i === 0);
    new cloudflare.DnsRecord(
      dnsResourceName(name, dns.domain),
      {
        zoneId: dns.zoneId,
        name: dns.domain,
        type: dns.type,
        content: dns.content,
        ttl: 1,
        proxied: false,
        comment: `tenantry: tenant ${name}`,
      },
      // A record can change type (A ↔ CNAME) when the host address changes; Cloudflare
      // refuses two records of different types on one name.
      {
        parent,
        provider: providers.cloudflare,
        deleteBeforeReplace: true,
        // After the site: a domain still served by another tenant's site stops here, before
        // Cloudflare would refuse the record (remote/scripts.ts siteInstallScript).
        dependsOn: [site],
        // Records named by role before (core/names.ts legacyDnsResourceName) are adopted.
        aliases: legacy === undefined ? [] : [{ name: legacy }],
      },
    );
  }
}

/**
 * Installs the site (content on stdin) and flags the host's reload step. Replaced when the
 * tenant moves host (triggers); the delete only removes a file that still has its marker. It
 * does not wait for stop-first containers: nginx proxies to fixed loopback ports, and a failed
 * container must not hold back the host's reload (a new tenant answers 502 until it is up). It
 * does wait for rolling ones (their address is an output of the new generation, healthy), and
 * then reloads nginx itself rather than through the host's reload step, which depends on sites
 * only.
 */
function createSite(
  parent: TenantInstance,
  name: string,
  { plan, host, providers }: TenantInstanceArgs,
  maintenancePage: command.remote.Command | undefined,
  upstreams: pulumi.Output<Record<string, string>> | undefined,
): command.remote.Command {
  // The file on the host is the identity's (the old name after a rename): nothing is replaced.
  const id = plan.lifecycle.identity;
  // With rolling services the site waits for their new generation (healthy: `wait`) and
  // reloads nginx itself, so the switch is live before the engine deletes the old container.
  const reloadNow = upstreams !== undefined;
  return new command.remote.Command(
    siteResourceName(name),
    {
      connection: host.connection,
      create: siteInstallCommand(host.user, host.layout, id, { reloadNow }),
      delete: siteRemoveCommand(host.user, host.layout, id, plan.site.marker),
      // The app's site, or the maintenance page while suspended (remote/maintenance.ts).
      stdin:
        upstreams === undefined
          ? siteText(plan)
          : upstreams.apply((u) => siteText({ ...plan, site: withUpstreams(plan.site, u) })),
      triggers: [plan.site.marker],
      addPreviousOutputInEnv: false,
    },
    {
      parent,
      provider: providers.command,
      dependsOn: [host.bootstrap, ...(maintenancePage === undefined ? [] : [maintenancePage])],
    },
  );
}

/**
 * The tenant's TLS step, after its site (an acme certificate is validated through the site's
 * challenge location) and, for wildcard, after its host's certificate. It asks for nothing while
 * its certificate is valid; its delete removes the HTTPS server and redirect, then (acme) the
 * certificate with its renewal config. Replaced delete-first when the tenant changes host or
 * certificate, so the old step never removes what the new one installed under the same names.
 */
function createCertificate(
  parent: TenantInstance,
  name: string,
  { plan, host, providers }: TenantInstanceArgs,
  site: command.remote.Command,
  upstreams: pulumi.Output<Record<string, string>> | undefined,
): command.remote.Command | undefined {
  const cert = plan.tls.certificate;
  const tls = plan.site.tls;
  if (cert === undefined || tls === undefined) return undefined;
  const wildcard = cert.kind === "wildcard" ? host.wildcards.get(cert.name) : undefined;
  if (cert.kind === "wildcard" && wildcard === undefined) {
    throw new pulumi.ResourceError(`host ${host.name} has no step for ${cert.name}`, parent);
  }
  const target = {
    // Its files on the host keep the old name after a rename (previousName), as the site's do.
    tenant: plan.lifecycle.identity,
    marker: plan.site.marker,
    certificate: cert,
    webroot: tls.webroot,
    snippets: tls.snippets,
  };
  return new command.remote.Command(
    `${name}-tls`,
    {
      connection: host.connection,
      create: tenantTlsCommand(host.user, host.layout, target),
      delete: tenantTlsRemoveCommand(host.user, host.layout, target),
      // The HTTPS server proxies to the same generation as the site (and reloads on a change).
      stdin:
        upstreams === undefined
          ? tlsSiteText(plan)
          : upstreams.apply((u) => tlsSiteText({ ...plan, site: withUpstreams(plan.site, u) })),
      triggers: [plan.site.marker, cert.name],
      addPreviousOutputInEnv: false,
    },
    {
      parent,
      provider: providers.command,
      dependsOn: [site, ...(wildcard === undefined ? [] : [wildcard])],
      deleteBeforeReplace: true,
    },
  );
}

// --- A tenant's life (README, "Day-2 operations"): rename, suspend, init, backups. ---

/**
 * After a rename (`previousName`), the component and every child keep their identity in the
 * stack: the component's alias is its old name, and a transformation gives each child named
 * `${tenant}-<role>` the alias `${previousName}-<role>`. Children named like their Docker
 * objects (containers, volumes) already carry the old name (plan/tenant.ts).
 */
function renameOptions(
  name: string,
  plan: TenantPlan,
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.ComponentResourceOptions | undefined {
  const previous = plan.lifecycle.previousName;
  if (previous === undefined) return opts;
  const alias: pulumi.ResourceTransformation = (args) => {
    const old = previousResourceName(args.name, name, previous);
    if (old === undefined) return undefined;
    return {
      props: args.props,
      opts: pulumi.mergeOptions(args.opts, { aliases: [{ name: old }] }),
    };
  };
  return pulumi.mergeOptions(opts, { aliases: [{ name: previous }], transformations: [alias] });
}

/**
 * A suspended tenant's containers: not started when created, and `mustRun: false` so a refresh
 * that finds them stopped does not start them. Both update in place (kreuzwerker
 * terraform-provider-docker v4.5.0 internal/provider/resource_docker_container.go: `start` and
 * `must_run` are plain Optional bools, not ForceNew); the Update starts a container when
 * must_run goes false → true (resource_docker_container_funcs.go resourceDockerContainerUpdate),
 * which is how `state: active` brings it back. Stopping is the suspend step's (a host command):
 * the provider never stops a running container.
 */
function suspendedInputs(plan: TenantPlan): { start?: boolean; mustRun?: boolean } {
  return plan.lifecycle.state === "suspended" ? { start: false, mustRun: false } : {};
}

/** The maintenance page's file, while suspended: the site names it, so it comes first. */
function createMaintenancePage(
  parent: TenantInstance,
  name: string,
  { plan, host, providers }: TenantInstanceArgs,
): command.remote.Command | undefined {
  if (plan.lifecycle.serves !== "maintenance") return undefined;
  const page = plan.lifecycle.maintenance;
  return new command.remote.Command(
    `${name}-maintenance`,
    {
      connection: host.connection,
      ...maintenanceCommands(host.user, host.layout, plan.lifecycle.identity),
      stdin: page.page,
      addPreviousOutputInEnv: false,
    },
    { parent, provider: providers.command, dependsOn: [host.bootstrap] },
  );
}

/** Stops a suspended tenant's containers, after the provider has recorded mustRun: false. */
function createSuspension(
  parent: TenantInstance,
  name: string,
  { plan, host, providers }: TenantInstanceArgs,
  containers: readonly docker.Container[],
): void {
  if (plan.lifecycle.state !== "suspended") return;
  new command.remote.Command(
    `${name}-suspend`,
    {
      connection: host.connection,
      create: suspendCommand(plan.lifecycle.identity, plan.backup.containers),
      addPreviousOutputInEnv: false,
    },
    { parent, provider: providers.command, dependsOn: [...containers] },
  );
}

/**
 * One command per init step, in order, after the tenant's containers. `triggers` is the step's
 * definition: a change replaces the command, and the new one runs the step. Any other change
 * (the environment, the connection) runs `update`, which does nothing, so the step does not
 * run on every apply (STYLE.md, pulumi-command: without `update`, `create` re-runs on any
 * change). The environment travels on stdin, a secret.
 */
function createInit(
  parent: TenantInstance,
  name: string,
  { plan, host, providers }: TenantInstanceArgs,
  containers: readonly docker.Container[],
  secrets: ReadonlyMap<string, pulumi.Output<string>>,
): void {
  const id = plan.lifecycle.identity;
  let previous: command.remote.Command | undefined;
  for (const step of plan.lifecycle.init) {
    const values = pulumi.all(
      Object.fromEntries(step.secrets.map((s) => [s, secrets.get(s)!] as const)),
    );
    const environment = pulumi.secret(
      values.apply((v) =>
        initEnvironment(step, { tenant: id, domain: plan.domain, url: plan.url, secrets: v }),
      ),
    );
    previous = new command.remote.Command(
      `${name}-init-${step.name}`,
      {
        connection: host.connection,
        ...initCommands(host.user, id, step),
        stdin: environment,
        triggers: [step.id],
        addPreviousOutputInEnv: false,
      },
      {
        parent,
        provider: providers.command,
        dependsOn: [...containers, ...(previous === undefined ? [] : [previous])],
        // The app's own output may print what it was given.
        additionalSecretOutputs: ["stdout", "stderr"],
      },
    );
  }
}

/**
 * The tenant's backups: its restic key (a generated secret that outlives every state but
 * purge), the backup step that installs key, tool and schedule on the host, and, once
 * decommissioned, the final backup with the tenant's secrets in it. The final backup runs before
 * the containers go: Pulumi deletes what left the program only after every create.
 */
function createBackups(
  parent: TenantInstance,
  name: string,
  { plan, host, providers, offsiteSecrets }: TenantInstanceArgs,
  secrets: ReadonlyMap<string, pulumi.Output<string>>,
): void {
  const key = new random.RandomPassword(
    `${name}-backup-key`,
    // As the app's secrets: letters and digits, 32 of them (about 190 bits).
    { length: 32, special: false },
    { parent, provider: providers.random },
  );
  const frames = pulumi.secret(
    pulumi
      .all({ key: key.result, ...(offsiteSecrets ?? {}) })
      .apply((v) => backupSetupStdin(plan.backup, v)),
  );
  const setup = new command.remote.Command(
    `${name}-backup`,
    {
      connection: host.connection,
      create: backupSetupCommand(host.user, plan.backup, host.name),
      delete: backupUnscheduleCommand(host.user, plan.backup),
      stdin: frames,
      addPreviousOutputInEnv: false,
    },
    { parent, provider: providers.command, dependsOn: [host.bootstrap] },
  );
  if (!plan.backup.final) return;
  const generated = pulumi.secret(
    pulumi.all(Object.fromEntries(secrets)).apply((v) => `${JSON.stringify(v, null, 2)}\n`),
  );
  new command.remote.Command(
    `${name}-final-backup`,
    {
      connection: host.connection,
      create: toolCommand(host.user, plan.lifecycle.identity, ["backup", "--final"]),
      stdin: generated,
      addPreviousOutputInEnv: false,
    },
    { parent, provider: providers.command, dependsOn: [setup] },
  );
}
