// The TenantInstance component: one customer's network, volumes, secrets, containers, DNS
// records and nginx site on its host. Wiring only; what to create comes from plan.ts.
import * as cloudflare from "@pulumi/cloudflare";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { TenantHost } from "./host";
import { dnsResourceName, networkName, secretResourceName, siteResourceName } from "./names";
import type { DnsPlan, TenantPlan } from "./plan";
import { asRoot, siteInstallScript, siteRemoveScript } from "./scripts";

export interface TenantInstanceArgs {
  /** What this tenant gets (plan.ts). */
  readonly plan: TenantPlan;
  /** The tenant's host: Docker provider, SSH connection, bootstrap, images. */
  readonly host: TenantHost;
  /** Values of the tenant's secretEnv keys, from stack config. Must be Pulumi secrets. */
  readonly configSecrets: Readonly<Record<string, pulumi.Output<string>>>;
  readonly providers: {
    readonly command: command.Provider;
    readonly random: random.Provider;
    /** Needed only when a domain of the tenant falls in a managed zone. */
    readonly cloudflare?: cloudflare.Provider;
  };
}

/** A tenant's DNS as the stack output shows it: no secret, and what the customer must do. */
export interface DnsSummary {
  readonly domain: string;
  readonly managed: boolean;
  readonly record: string;
  readonly zone?: string;
  readonly action?: string;
}

export function dnsSummary(dns: DnsPlan): DnsSummary {
  const record = `${dns.type} ${dns.domain} → ${dns.content}`;
  return dns.managed
    ? { domain: dns.domain, managed: true, record, zone: dns.zone }
    : { domain: dns.domain, managed: false, record, action: dns.instruction };
}

export class TenantInstance extends pulumi.ComponentResource {
  public readonly url: pulumi.Output<string>;
  public readonly domain: pulumi.Output<string>;
  public readonly hostName: pulumi.Output<string>;
  public readonly ports: pulumi.Output<Record<string, number>>;
  public readonly dns: pulumi.Output<DnsSummary[]>;
  public readonly network: docker.Network;
  public readonly containers: readonly docker.Container[];
  public readonly site: command.remote.Command;

  constructor(name: string, args: TenantInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenantry:index:TenantInstance", name, {}, opts);
    const { plan, host, providers } = args;
    const labels = [
      { label: "tenantry.tenant", value: name },
      { label: "tenantry.app", value: plan.app },
    ];
    const onDocker = { parent: this, provider: host.docker };

    // Its own network: containers reach each other by service name and no other tenant's.
    this.network = new docker.Network(
      networkName(name),
      { name: networkName(name), driver: "bridge", labels },
      { ...onDocker, dependsOn: [host.bootstrap] },
    );

    const secrets = new Map<string, pulumi.Output<string>>();
    for (const secret of plan.secrets) {
      const password = new random.RandomPassword(
        secretResourceName(name, secret),
        // Letters and digits only: safe in URLs, env files and connection strings.
        { length: 32, special: false },
        { parent: this, provider: providers.random },
      );
      secrets.set(secret, pulumi.secret(password.result));
    }

    const containers: docker.Container[] = [];
    for (const service of plan.services) {
      const volumes = service.volumes.map(
        (v) =>
          new docker.Volume(
            v.volumeName,
            {
              name: v.volumeName,
              labels: [...labels, { label: "tenantry.service", value: service.name }],
            },
            // Tenant data outlives its entry in tenants.yaml: removing a tenant (or renaming it)
            // drops the volume from the stack but keeps it on the host. See README "Removing data".
            { ...onDocker, retainOnDelete: true, dependsOn: [host.bootstrap] },
          ),
      );
      const image = host.images.get(service.image);
      if (image === undefined) {
        throw new pulumi.ResourceError(
          `host ${host.name} does not pull image ${service.image}`,
          this,
        );
      }
      const envs: pulumi.Input<string>[] = [
        ...Object.entries(service.env).map(([k, v]) => `${k}=${v}`),
        ...service.generatedSecrets.map(
          ({ env, secret }) => pulumi.interpolate`${env}=${secrets.get(secret)!}`,
        ),
        ...service.configSecrets.map(
          (key) => pulumi.interpolate`${key}=${args.configSecrets[key]!}`,
        ),
      ];
      const hasSecrets = service.generatedSecrets.length + service.configSecrets.length > 0;
      containers.push(
        new docker.Container(
          service.containerName,
          {
            name: service.containerName,
            image,
            restart: "unless-stopped",
            memory: service.memoryMb,
            memorySwap: service.memoryMb,
            cpus: service.cpus.toFixed(2),
            envs: hasSecrets ? pulumi.secret(envs) : envs,
            command: service.command ? [...service.command] : undefined,
            // Only the tenant's network (the provider detaches the default bridge), with the
            // service name as alias: `redis:6379` works as it did under Compose.
            networksAdvanced: [{ name: this.network.name, aliases: [service.name] }],
            // Published on loopback only: nginx is the only public entry.
            ports:
              service.hostPort !== undefined && service.port !== undefined
                ? [
                    {
                      internal: service.port,
                      external: service.hostPort,
                      ip: "127.0.0.1",
                      protocol: "tcp",
                    },
                  ]
                : [],
            volumes: service.volumes.map((v, i) => ({
              volumeName: volumes[i]!.name,
              containerPath: v.path,
            })),
            healthcheck: service.healthCheck
              ? {
                  tests: [...service.healthCheck],
                  interval: "30s",
                  timeout: "5s",
                  retries: 3,
                  startPeriod: "30s",
                }
              : undefined,
            labels: [...labels, { label: "tenantry.service", value: service.name }],
            logDriver: "json-file",
            logOpts: { "max-size": "10m", "max-file": "3" },
          },
          { ...onDocker, additionalSecretOutputs: hasSecrets ? ["envs"] : [] },
        ),
      );
    }
    this.containers = containers;

    for (const [i, dns] of plan.dns.entries()) {
      if (!dns.managed) continue;
      if (providers.cloudflare === undefined) {
        throw new pulumi.ResourceError(
          `${dns.domain} is in a managed zone but no Cloudflare provider was given`,
          this,
        );
      }
      new cloudflare.DnsRecord(
        dnsResourceName(name, dns.domain, i === 0),
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
        { parent: this, provider: providers.cloudflare, deleteBeforeReplace: true },
      );
    }

    // Installs the site (content on stdin) and flags the host's reload step. Replaced when the
    // tenant moves host (triggers); the delete only removes a file that still has its marker.
    this.site = new command.remote.Command(
      siteResourceName(name),
      {
        connection: host.connection,
        create: asRoot(host.user, siteInstallScript(host.layout, name)),
        delete: asRoot(host.user, siteRemoveScript(host.layout, name, plan.site.marker)),
        stdin: plan.site.config,
        triggers: [plan.site.marker],
        addPreviousOutputInEnv: false,
      },
      { parent: this, provider: providers.command, dependsOn: [host.bootstrap, ...containers] },
    );

    this.url = pulumi.output(plan.url);
    this.domain = pulumi.output(plan.domain);
    this.hostName = pulumi.output(plan.host);
    this.ports = pulumi.output({ ...plan.ports });
    this.dns = pulumi.output(plan.dns.map(dnsSummary));
    this.registerOutputs({
      url: this.url,
      domain: this.domain,
      host: this.hostName,
      ports: this.ports,
      dns: this.dns,
    });
  }
}
