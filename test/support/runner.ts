// Runs a remote command the way @pulumi/command 1.x's provider does (provider/pkg/provider/remote,
// v1.2.1): dial with retries and backoff, the pinned host key checked during the handshake, then
// one session that execs the command text (no pty, no environment) with `stdin` and captures
// stdout, stderr and the exit status.
import { Client, type ConnectConfig } from "ssh2";
import type { HostConnection } from "../../remote/connection";
import { sleep } from "./proc";

/** What the program passes to `command.remote.Command` (the parts the provider runs). */
export interface RemoteCommandArgs {
  readonly connection: HostConnection;
  readonly create?: string;
  readonly delete?: string;
  readonly stdin?: string;
}

export interface CommandResult {
  /** Exit status; null when the command died of a signal. */
  readonly code: number | null;
  readonly signal?: string;
  readonly stdout: string;
  readonly stderr: string;
  /** Dials it took, the successful one included. */
  readonly attempts: number;
}

/** Every dial failed: the provider's "after N failed attempts" error. */
export class DialError extends Error {
  constructor(
    readonly attempts: number,
    readonly last: Error,
  ) {
    super(`after ${attempts} failed attempts: ${last.message}`);
  }
}

/** The provider's backoff (pulumi's retry.Until defaults): 100 ms, ×1.5, at most 5 s. */
export function retryDelays(count: number): number[] {
  const delays: number[] = [];
  let delay = 100;
  for (let i = 0; i < count; i++) {
    delays.push(Math.min(delay, 5000));
    delay *= 1.5;
  }
  return delays;
}

/**
 * Runs `args.create` (or `args.delete`). Resolves with the exit status, whatever it is (the
 * provider fails the resource on non-zero); rejects with DialError when no dial succeeded.
 */
export async function runRemote(
  args: RemoteCommandArgs,
  op: "create" | "delete" = "create",
): Promise<CommandResult> {
  const text = op === "create" ? args.create : args.delete;
  if (text === undefined) throw new Error(`the command has no ${op} text`);
  const { client, attempts } = await dial(args.connection);
  try {
    return { ...(await exec(client, text, args.stdin ?? "")), attempts };
  } finally {
    client.end();
  }
}

/** Like `runRemote`, but throws with the command's output unless it exits 0. */
export async function runRemoteOk(
  args: RemoteCommandArgs,
  op: "create" | "delete" = "create",
): Promise<CommandResult> {
  const result = await runRemote(args, op);
  if (result.code !== 0) {
    throw new Error(
      `${op} exited ${result.code ?? result.signal}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
  return result;
}

/**
 * Dial attempts: the provider stops once the number of failed dials exceeds dialErrorLimit, so
 * a limit of N makes N + 1 attempts (0: a single one; -1: unlimited, bounded here by the test).
 */
async function dial(connection: HostConnection): Promise<{ client: Client; attempts: number }> {
  const limit = connection.dialErrorLimit;
  const maxAttempts = limit < 0 ? 1000 : limit + 1;
  const delays = retryDelays(maxAttempts - 1);
  let last: Error = new Error("no attempt made");
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      return { client: await dialOnce(connection), attempts: attempt };
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
    }
    if (attempt < maxAttempts) await sleep(delays[attempt - 1]!);
  }
  throw new DialError(maxAttempts, last);
}

/** SSH algorithm names the provider pins for a host key type (Go's HostKeyAlgorithms). */
function hostKeyAlgorithms(
  type: string,
): NonNullable<ConnectConfig["algorithms"]>["serverHostKey"] {
  switch (type) {
    case "ssh-ed25519":
    case "ecdsa-sha2-nistp256":
    case "ecdsa-sha2-nistp384":
    case "ecdsa-sha2-nistp521":
      return [type];
    case "ssh-rsa":
      return ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"];
    default:
      throw new Error(`unsupported host key type ${type}`);
  }
}

/** One dial: TCP connect, handshake with the host key compared blob for blob, public key auth. */
function dialOnce(connection: HostConnection): Promise<Client> {
  const { privateKey } = connection;
  if (typeof privateKey !== "string") {
    throw new Error("the test runner needs the private key as a plain string");
  }
  const [type = "", blob = ""] = connection.hostKey.split(" ");
  const pinned = Buffer.from(blob, "base64");
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error === undefined) {
        resolve(client);
      } else {
        client.end();
        reject(error);
      }
    };
    client.on("ready", () => settle());
    client.on("error", (error) => settle(error));
    client.on("close", () => settle(new Error("connection closed before the handshake finished")));
    client.connect({
      host: connection.host,
      port: connection.port,
      username: connection.user,
      privateKey,
      // Go's ssh.Dial bounds only the TCP connect by perDialTimeout; the test bounds the whole
      // handshake by it, so a stuck server cannot hang the suite.
      readyTimeout: connection.perDialTimeout * 1000,
      algorithms: { serverHostKey: hostKeyAlgorithms(type) },
      hostVerifier: (key: Buffer) => key.equals(pinned),
    });
  });
}

function exec(
  client: Client,
  command: string,
  stdin: string,
): Promise<Omit<CommandResult, "attempts">> {
  return new Promise((resolve, reject) => {
    client.exec(command, (error, stream) => {
      if (error) {
        reject(error);
        return;
      }
      let stdout = "";
      let stderr = "";
      stream.setEncoding("utf8");
      stream.stderr.setEncoding("utf8");
      stream.on("data", (chunk: string) => (stdout += chunk));
      stream.stderr.on("data", (chunk: string) => (stderr += chunk));
      stream.on("close", (code: number | null, signal?: string) => {
        resolve({ code: code ?? null, ...(signal ? { signal } : {}), stdout, stderr });
      });
      // Go's session.Run with Stdin set copies it and then closes the remote stdin; without
      // Stdin the remote reads EOF at once. Either way: write it all, then EOF.
      stream.end(stdin);
    });
  });
}
