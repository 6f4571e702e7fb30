// What the CLI's host commands (status, backup, restore, purge) share: one system `ssh` session
// per command to a host, with the same pinned-host-key options the program gives Docker
// (remote/connection.ts dockerSshOpts: the manifest's hostKey under a fixed alias, BatchMode) and
// the same key (`--identity FILE`, else the stack's `tenantry:sshKeyPath`, else the SSH agent and
// default keys, as for Docker). Failures become one line per host, never a stack trace.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import type { Host } from "../manifest/schema";
import { dockerSshOpts } from "../remote/connection";

export interface SshOptions {
  /** Private key file (ssh -i); undefined: the agent and default keys. */
  readonly identity?: string;
  /** Seconds to wait for the TCP connection and handshake. */
  readonly connectTimeout?: number;
  /** Milliseconds the whole session may take before it is killed. */
  readonly timeoutMs?: number;
  readonly stdin?: string;
}

export interface SshResult {
  /** ssh's exit status: the remote command's, or 255 when ssh itself failed. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** The argv of `ssh` for one remote command (a shell command line, already quoted). */
export function sshArgv(
  hostName: string,
  host: Host,
  remoteCommand: string,
  options: SshOptions = {},
): string[] {
  // prettier-ignore
  return [
    ...dockerSshOpts(hostName, host, options.identity),
    "-o", `ConnectTimeout=${options.connectTimeout ?? 10}`,
    "-o", "ServerAliveCountMax=2",
    "-p", String(host.port),
    "-l", host.user,
    "--",
    host.address,
    remoteCommand,
  ];
}

/** Runs one command on a host over ssh; resolves whatever its exit status. */
export function runOverSsh(
  hostName: string,
  host: Host,
  remoteCommand: string,
  options: SshOptions = {},
): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", sshArgv(hostName, host, remoteCommand, options), {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 600_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ssh (${err.message}); install openssh-client`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 255, stdout, stderr, timedOut });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** Where a host is reached, as messages name it: `vps1 (deploy@203.0.113.10:22)`. */
export function hostTarget(hostName: string, host: Host): string {
  return `${hostName} (${host.user}@${host.address}:${host.port})`;
}

/**
 * Why a session failed, in one line: ssh's own words when ssh failed (255: no route, refused,
 * host key, authentication), else the remote command's last `tenantry:` line.
 */
export function failureReason(result: SshResult): string {
  if (result.timedOut) return "no answer in time; the session was stopped";
  const lines = result.stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("Warning: Permanently added"));
  if (result.code === 255) {
    const last = lines[lines.length - 1] ?? "ssh failed";
    const hint = /Host key verification failed|REMOTE HOST IDENTIFICATION/.test(result.stderr)
      ? " (the host's key is not the hostKey pinned in the manifest)"
      : /Permission denied/.test(result.stderr)
        ? " (the key was refused: pass --identity FILE or load it into your agent)"
        : "";
    return `cannot connect: ${last}${hint}`;
  }
  const own = lines.filter((l) => l.startsWith("tenantry: "));
  const last = own[own.length - 1] ?? lines[lines.length - 1] ?? `exit ${result.code}`;
  return last.replace(/^tenantry: /, "");
}

/**
 * The key file the Docker provider would use: `--identity`, else `tenantry:sshKeyPath` from
 * Pulumi.<stack>.yaml next to the manifest (a plain value; the secret `sshPrivateKey` is only
 * readable by Pulumi).
 */
export function identityFor(
  options: { identity?: string; stack?: string },
  manifestFile: string,
): string | undefined {
  if (options.identity !== undefined) {
    if (!existsSync(options.identity)) throw new Error(`no key file at ${options.identity}`);
    return options.identity;
  }
  if (options.stack === undefined) return undefined;
  const stackFile = path.join(path.dirname(manifestFile), `Pulumi.${options.stack}.yaml`);
  if (!existsSync(stackFile)) {
    throw new Error(
      `no stack file ${stackFile} (pass --identity FILE, or create the stack with: pulumi stack init ${options.stack})`,
    );
  }
  const data: unknown = parseDocument(readFileSync(stackFile, "utf8")).toJS();
  const config =
    typeof data === "object" && data !== null
      ? (data as { config?: Record<string, unknown> }).config
      : undefined;
  const value = config?.["tenantry:sshKeyPath"];
  return typeof value === "string" ? path.resolve(path.dirname(stackFile), value) : undefined;
}
