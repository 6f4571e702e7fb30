// The program's own resources, applied to a test host as the providers would apply them: the
// program is evaluated under mocks on a manifest that points at the host, then its
// command:remote:Command inputs run over SSH through the runner (pulumi-command's behaviour) and
// its Docker inputs through the docker CLI over ssh://, with exactly the ssh options the program
// gives its Docker provider (test/support/dockerCli.ts translates each input).
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RecordedResource } from "../../cli/offline";
import type { HostConnection } from "../../remote/connection";
import { evaluate, reveal, T } from "../program/helpers";
import { applyDockerResources, type Argv } from "./dockerCli";
import { DOCKER_CLI, type TestHost } from "./host";
import { run, type RunResult } from "./proc";
import { runRemote, type CommandResult } from "./runner";

export interface EvaluatedProgram {
  readonly resources: readonly RecordedResource[];
}

/** Writes `manifest` into the host's test dir and evaluates the program on it (a child process). */
export async function evaluateFor(host: TestHost, manifest: string): Promise<EvaluatedProgram> {
  const file = join(host.dir, "tenants.yaml");
  writeFileSync(file, manifest);
  const result = await evaluate(file, ["--config", `tenantry:sshKeyPath=${host.keyPath}`]);
  if (!result.ok || result.run === undefined) {
    throw new Error(`the program failed on the test manifest:\n${result.stderr}`);
  }
  return { resources: result.run.resources };
}

/** The resource of `type` named `name`. */
export function resource(p: EvaluatedProgram, type: string, name: string): RecordedResource {
  const found = p.resources.find((r) => r.type === type && r.name === name);
  if (found === undefined) throw new Error(`the program has no ${type} named ${name}`);
  return found;
}

/** A tenant's resources (children of its TenantInstance) plus its host's images. */
export function tenantResources(p: EvaluatedProgram, tenant: string): RecordedResource[] {
  const component = resource(p, T.tenant, tenant);
  const images = p.resources.filter((r) => r.type === T.image);
  return [...p.resources.filter((r) => r.parent === component.urn), ...images];
}

/**
 * Runs a recorded remote command's `create` (or `delete`) with its recorded connection and
 * stdin. The private key under mocks is a placeholder; the test host's key stands in for the
 * stack secret, everything else is as recorded.
 */
export function runRecorded(
  host: TestHost,
  command: RecordedResource,
  which: "create" | "delete" = "create",
): Promise<CommandResult> {
  const inputs = command.inputs;
  const recorded = reveal(inputs.connection) as Record<string, unknown>;
  const connection: HostConnection = {
    host: recorded.host as string,
    port: recorded.port as number,
    user: recorded.user as string,
    hostKey: recorded.hostKey as string,
    dialErrorLimit: recorded.dialErrorLimit as number,
    perDialTimeout: recorded.perDialTimeout as number,
    privateKey: host.privateKey,
  };
  return runRemote(
    {
      connection,
      create: reveal(inputs.create) as string | undefined,
      delete: reveal(inputs.delete) as string | undefined,
      stdin: reveal(inputs.stdin) as string | undefined,
    },
    which,
  );
}

/**
 * The docker CLI as the program's Docker provider reaches the host: DOCKER_HOST is the
 * provider's `host` input and every ssh the CLI runs gets the provider's `sshOpts` first, as
 * pulumi-docker's connection helper passes them (GetConnectionHelperWithSSHOpts). Debian's ssh
 * client, the pinned host key, the deploy user: a changed host key or a user outside the docker
 * group fails here exactly as it would in `pulumi up`.
 */
export function dockerOverSsh(
  host: TestHost,
  p: EvaluatedProgram,
): (args: Argv) => Promise<RunResult> {
  const provider = p.resources.find((r) => r.type === T.dockerProvider);
  if (provider === undefined) throw new Error("the program has no Docker provider");
  const daemon = provider.inputs.host as string;
  // Provider inputs reach the provider as strings; lists are JSON-encoded.
  const raw = provider.inputs.sshOpts;
  const sshOpts = (typeof raw === "string" ? JSON.parse(raw) : raw) as string[];
  const bin = join(host.dir, "docker-ssh-bin");
  mkdirSync(bin, { recursive: true });
  const quoted = sshOpts.map((o) => `'${o.replace(/'/g, "'\\''")}'`).join(" ");
  writeFileSync(join(bin, "ssh"), `#!/bin/sh\nexec /usr/bin/ssh ${quoted} "$@"\n`);
  chmodSync(join(bin, "ssh"), 0o755);
  return (args) =>
    run(DOCKER_CLI, [...args], {
      timeoutMs: 60_000,
      env: { ...process.env, DOCKER_HOST: daemon, PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
}

/** Creates a tenant's Docker objects through `docker` in dependency order. */
export async function applyTenant(
  p: EvaluatedProgram,
  tenant: string,
  docker: (args: Argv) => Promise<RunResult>,
): Promise<Argv[]> {
  return applyDockerResources(tenantResources(p, tenant), async (args) => {
    const result = await docker(args);
    if (result.code !== 0) throw new Error(`docker ${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  });
}
