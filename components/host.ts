// Per-host resources shared by the tenants on it: the Docker provider over SSH, the bootstrap
// step every tenant depends on, one RemoteImage per image, and the one nginx reload per apply.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  dockerHost,
  dockerSshOpts,
  hostConnection,
  type HostConnection,
} from "../remote/connection";
import { imageSlug } from "../core/names";
import { hostRegistryAuth, type ImagePlan } from "../plan/images";
import { imageRemoveScript, imageRepullScript, userCommand } from "../remote/images";
import type { Host } from "../manifest/schema";
import { backupScheduleCommand, backupUnscheduleHostCommand } from "../remote/backup";
import { renderHostInclude } from "../remote/nginx";
import type { CertificatePlan } from "../plan/tls";
import { wildcardCertificateCommand, wildcardRemoveCommand } from "../remote/tls";
import { entryPointVersion } from "../remote/entry";
import {
  hostBootstrapCommand,
  hostLayout,
  hostReloadCommand,
  sitesDir,
  type HostLayout,
} from "../remote/scripts";

export interface TenantHostArgs {
  /** The host's manifest entry. */
  readonly host: Host;
  /** Images the host's tenants run (plan/images.ts hostImages); each is pulled once per host. */
  readonly images: readonly ImagePlan[];
  /** Registry passwords by stack key (`registry.<registry>.password`): Pulumi secrets. */
  readonly registryPasswords?: Readonly<Record<string, pulumi.Output<string>>>;
  /** SSH private key for remote commands (a Pulumi secret); the SSH agent when absent. */
  readonly privateKey?: pulumi.Input<string>;
  /** Private key file for Docker's ssh client; the agent and default keys when absent. */
  readonly sshKeyPath?: string;
  readonly commandProvider: command.Provider;
  /** The host's `*.<zone>` certificates (plan/tls.ts hostWildcardCertificates). */
  readonly wildcards?: readonly CertificatePlan[];
  /** Cloudflare token for their DNS-01 challenges (a Pulumi secret; kept on the host, 0600). */
  readonly acmeDnsToken?: pulumi.Input<string>;
}

export class TenantHost extends pulumi.ComponentResource {
  public readonly name: string;
  public readonly user: string;
  public readonly layout: HostLayout;
  public readonly connection: HostConnection;
  public readonly docker: docker.Provider;
  public readonly bootstrap: command.remote.Command;
  /** Image reference → image id to run. */
  public readonly images: ReadonlyMap<string, pulumi.Output<string>>;
  /**
   * Image reference → the step that removes it once no tenant runs it. Containers depend on
   * it, so the engine deletes them first (deletes run in reverse dependency order).
   */
  public readonly imageCleanups: ReadonlyMap<string, command.remote.Command>;
  /** Certificate lineage name → the step that requests that wildcard certificate. */
  public readonly wildcards: ReadonlyMap<string, command.remote.Command>;
  private readonly commandProvider: command.Provider;

  constructor(name: string, args: TenantHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("tenantry:index:Host", name, {}, opts);
    this.name = name;
    this.user = args.host.user;
    this.layout = hostLayout(args.host.nginx);
    this.connection = hostConnection(args.host, args.privateKey);
    this.commandProvider = args.commandProvider;

    this.docker = new docker.Provider(
      `${name}-docker`,
      {
        host: dockerHost(args.host),
        sshOpts: dockerSshOpts(name, args.host, args.sshKeyPath),
        ...registryAuthInput(args),
      },
      { parent: this },
    );

    this.bootstrap = new command.remote.Command(
      `${name}-bootstrap`,
      {
        connection: this.connection,
        create: hostBootstrapCommand(this.layout, name, this.user, entryPointVersion()),
        stdin: renderHostInclude({
          sitesDir: sitesDir(this.layout),
          listen: this.layout.listen,
          tlsListen: args.host.nginx.tlsListen,
        }),
        addPreviousOutputInEnv: false,
      },
      { parent: this, provider: this.commandProvider },
    );

    const images = new Map<string, pulumi.Output<string>>();
    const cleanups = new Map<string, command.remote.Command>();
    for (const image of args.images) {
      const repull = createRepull(this, image, args);
      const remote = new docker.RemoteImage(
        `${name}-image-${imageSlug(image.ref)}`,
        {
          name: image.ref,
          // Never the provider's own removal: it fails the apply while any container uses the
          // image, and a replacement (new pullTriggers) would delete the tag it stands for
          // (remote/images.ts). The cleanup step below removes unused images instead.
          keepLocally: true,
          // A new token replaces this resource after the re-pull step, so it reads the image
          // id anew and the containers whose image changed are replaced.
          ...(image.repull.length > 0 ? { pullTriggers: [...image.repull] } : {}),
        },
        {
          parent: this,
          provider: this.docker,
          dependsOn: [this.bootstrap, ...(repull === undefined ? [] : [repull])],
        },
      );
      images.set(image.ref, remote.imageId);
      cleanups.set(
        image.ref,
        new command.remote.Command(
          `${name}-image-cleanup-${imageSlug(image.ref)}`,
          {
            connection: this.connection,
            // Nothing to do while tenants run it; removed from the host when the last goes.
            delete: userCommand(imageRemoveScript(image.ref)),
            addPreviousOutputInEnv: false,
          },
          { parent: this, provider: this.commandProvider, dependsOn: [this.bootstrap] },
        ),
      );
    }
    this.images = images;
    this.imageCleanups = cleanups;
    this.wildcards = createWildcards(this, args);

    this.registerOutputs({ bootstrap: this.bootstrap.stdout });
  }

  /**
   * The host's one nginx reload per apply. It waits for every site step on the host (they only
   * flag a change) and runs whenever the set of sites changes. It depends on the sites alone:
   * a tenant whose container fails to start must not keep the other tenants' site changes from
   * going live (README, "What each step waits for").
   */
  addReload(sites: readonly command.remote.Command[], digest: string): command.remote.Command {
    return new command.remote.Command(
      `${this.name}-nginx-reload`,
      {
        connection: this.connection,
        create: hostReloadCommand(this.user, this.layout),
        triggers: [digest],
        addPreviousOutputInEnv: false,
      },
      { parent: this, provider: this.commandProvider, dependsOn: [this.bootstrap, ...sites] },
    );
  }

  /**
   * The host's nightly backups: a systemd timer (or a cron file) that runs every scheduled
   * tenant's backup at `at`, host time (remote/backup.ts). The tenants' own backup steps say
   * which are scheduled; this one step does not change when tenants come and go.
   */
  addBackupSchedule(at: { hour: number; minute: number }): command.remote.Command {
    return new command.remote.Command(
      `${this.name}-backup-schedule`,
      {
        connection: this.connection,
        create: backupScheduleCommand(this.user, this.name, at),
        delete: backupUnscheduleHostCommand(this.user, this.name),
        addPreviousOutputInEnv: false,
      },
      { parent: this, provider: this.commandProvider, dependsOn: [this.bootstrap] },
    );
  }
}

/** The Docker provider's registry credentials for the host's images (plan/images.ts). */
function registryAuthInput(args: TenantHostArgs): {
  registryAuth?: docker.types.input.ProviderRegistryAuth[];
} {
  const entries = hostRegistryAuth(args.images).map(({ address, credentials }) => ({
    address,
    username: credentials.username,
    password: passwordOf(args, credentials.passwordKey),
  }));
  return entries.length === 0 ? {} : { registryAuth: entries };
}

function passwordOf(args: TenantHostArgs, key: string): pulumi.Output<string> {
  const password = args.registryPasswords?.[key];
  if (password === undefined) throw new Error(`no registry password ${key} was given`);
  return pulumi.secret(password);
}

/**
 * The re-pull step of an image with `repull:` tokens: replaced (and so run) whenever the tokens
 * change. The registry password, if any, travels on stdin as a secret.
 */
function createRepull(
  host: TenantHost,
  image: ImagePlan,
  args: TenantHostArgs,
): command.remote.Command | undefined {
  if (image.repull.length === 0) return undefined;
  const login =
    image.credentials === undefined
      ? undefined
      : { server: image.credentials.registry, username: image.credentials.username };
  return new command.remote.Command(
    `${host.name}-repull-${imageSlug(image.ref)}`,
    {
      connection: host.connection,
      create: userCommand(imageRepullScript(image.ref, login)),
      ...(image.credentials === undefined
        ? {}
        : {
            stdin: passwordOf(args, image.credentials.passwordKey).apply((p) => `${p}\n`),
          }),
      triggers: [...image.repull],
      addPreviousOutputInEnv: false,
    },
    {
      parent: host,
      provider: args.commandProvider,
      dependsOn: [host.bootstrap],
      additionalSecretOutputs: ["stdout", "stderr"],
    },
  );
}

/**
 * One DNS-01 step per `*.<zone>` certificate of the host: the Cloudflare token travels on stdin
 * (a secret, never in the command text) into a 0600 file certbot renews with. Tenants under the
 * zone only depend on it: onboarding one requests nothing.
 */
function createWildcards(
  host: TenantHost,
  args: TenantHostArgs,
): Map<string, command.remote.Command> {
  const steps = new Map<string, command.remote.Command>();
  for (const cert of args.wildcards ?? []) {
    if (args.acmeDnsToken === undefined) {
      throw new pulumi.ResourceError(
        `host ${host.name} serves tenants with tls: wildcard but no Cloudflare token for DNS-01 was given (stack config tenantry:acmeDnsToken)`,
        host,
      );
    }
    const step = new command.remote.Command(
      `${host.name}-${cert.name}`,
      {
        connection: host.connection,
        create: wildcardCertificateCommand(host.user, host.layout, cert),
        delete: wildcardRemoveCommand(host.user, host.layout, cert),
        stdin: pulumi.secret(pulumi.interpolate`dns_cloudflare_api_token = ${args.acmeDnsToken}\n`),
        addPreviousOutputInEnv: false,
      },
      {
        parent: host,
        provider: args.commandProvider,
        dependsOn: [host.bootstrap],
        additionalSecretOutputs: ["stdout", "stderr"],
      },
    );
    steps.set(cert.name, step);
  }
  return steps;
}
