// Runs a remote command the way @pulumi/command 1.2.1's remote provider does, with ssh2 standing
// in for the provider's Go client (golang.org/x/crypto v0.48.0, per provider/go.mod at v1.2.1).
// What it models, and from where (pulumi/pulumi-command, tag v1.2.1, provider/pkg/provider/remote/):
// - connection.go, connectionBase.SSHConfig: the pinned key is parsed once, before any dial, and
//   is the only host key algorithm offered; FixedHostKey compares the key blob for blob.
// - connection.go, dialWithRetry + reachedDialingErrorLimit: every dial error is retried alike.
// - commandOutputs.go, CommandOutputs.run: one session, session.Run(text), stdin, the exit status
//   and the error text. Error texts are Go's, rebuilt from ssh2's where the mapping is certain.
import { Client, utils, type ServerHostKeyAlgorithm } from "ssh2";
import { isIPv6 } from "node:net";
import type { HostConnection } from "../../remote/connection";
import { sleep } from "./proc";

/** What the program passes to `command.remote.Command` (the parts the provider runs). */
export interface RemoteCommandArgs {
  readonly connection: HostConnection;
  readonly create?: string;
  readonly delete?: string;
  readonly stdin?: string;
  // No `environment`: the program sends none and sets addPreviousOutputInEnv: false. The provider
  // sends each variable as an "env" request with want-reply (x/crypto ssh/session.go,
  // Session.Setenv); sshd without a matching AcceptEnv answers failure (openssh-portable V_9_2_P1
  // session.c session_env_req, serverloop.c), so the command fails before it runs with
  // `could not set environment variable "K": ssh: setenv failed` (logAndWrapSetenvErr). ssh2 sends
  // env without want-reply, so it could not show that failure: refusing the field is more honest.
}

export interface CommandResult {
  /** Exit status; null when the command died of a signal. */
  readonly code: number | null;
  /** ssh2's name for the signal ("SIGKILL"). */
  readonly signal?: string;
  /**
   * The streams as sent. The provider's `stdout`/`stderr` outputs are these without one trailing
   * newline (strings.TrimSuffix in CommandOutputs.run).
   */
  readonly stdout: string;
  readonly stderr: string;
  /** The provider's error for this run (what `pulumi up` shows); absent when it exits 0. */
  readonly failure?: string;
  /** Dials it took, the successful one included. */
  readonly attempts: number;
}

/** Every dial failed: the provider's "after N failed attempts" error. */
export class DialError extends Error {
  constructor(
    /** Dials made (the limit plus one). */
    readonly attempts: number,
    /** ssh2's error of the last dial. */
    readonly last: Error,
    /** What the provider's Go client says for it, when known. */
    readonly goMessage: string | undefined,
  ) {
    // dialWithRetry prints `try`, the zero-based index of the last dial: one less than the dials
    // made ("after 0 failed attempts" for dialErrorLimit 0). ssh2's own text stays in the message.
    super(
      `after ${attempts - 1} failed attempts: ${
        goMessage === undefined ? last.message : `${goMessage} (ssh2: ${last.message})`
      }`,
    );
  }
}

/**
 * The waits between dials: pulumi's retry.Until defaults, which dialWithRetry keeps (pulumi/pulumi
 * sdk/go/common/util/retry/until.go): 100 ms, then ×1.5, each capped at 5 s.
 */
export function retryDelays(count: number): number[] {
  const delays: number[] = [];
  let delay = 100;
  for (let i = 0; i < count; i++) {
    delay = Math.min(delay, 5000);
    delays.push(delay);
    delay *= 1.5;
  }
  return delays;
}

/**
 * Runs `args.create` (or `args.delete`). Resolves with the exit status, whatever it is (the
 * provider fails the resource on non-zero, with `failure`); rejects with DialError when no dial
 * succeeded, and with a plain Error when the connection cannot even be configured.
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
    // The provider never closes its client (CommandOutputs.run closes only the session), so its
    // connection lives until the provider exits; here it ends with the command.
    client.end();
  }
}

/** Like `runRemote`, but throws the provider's error unless the command exits 0. */
export async function runRemoteOk(
  args: RemoteCommandArgs,
  op: "create" | "delete" = "create",
): Promise<CommandResult> {
  const result = await runRemote(args, op);
  if (result.failure !== undefined) throw new Error(`${op}: ${result.failure}`);
  return result;
}

/** What one dial needs; built once, as SSHConfig runs once before dialWithRetry. */
interface DialConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey: string;
  readonly pinned: Buffer;
  /** The HostKeyAlgorithms the Go client offers: exactly the pinned key's type. */
  readonly hostKeyAlgorithms: ServerHostKeyAlgorithm[];
  readonly timeoutMs: number;
}

/**
 * SSHConfig: problems with the host key or the private key fail the command at once, without a
 * dial and without retries.
 */
function dialConfig(connection: HostConnection): DialConfig {
  const { privateKey } = connection;
  if (typeof privateKey !== "string") {
    throw new Error("the test runner needs the private key as a plain string");
  }
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw new Error(`the private key does not parse: ${parsed.message}`);
  // ssh.ParseAuthorizedKey skips the text before the first blank and reads the type from the
  // blob itself (x/crypto ssh/keys.go, parseAuthorizedKey), so a wrong label does not matter.
  const blob = Buffer.from(connection.hostKey.trim().split(/\s+/)[1] ?? "", "base64");
  const type = blobType(blob);
  if (type === undefined) throw new Error(`failed to parse host key: ${connection.hostKey}`);
  return {
    host: connection.host,
    port: connection.port,
    user: connection.user,
    privateKey,
    pinned: blob,
    hostKeyAlgorithms: hostKeyAlgorithms(type),
    timeoutMs: connection.perDialTimeout * 1000,
  };
}

/** The key type named at the start of an SSH public key blob (an SSH string). */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || 4 + length > blob.length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}

/**
 * SSHConfig sets `HostKeyAlgorithms = []string{publicKey.Type()}`, and the client's KEXINIT sends
 * that list verbatim (x/crypto v0.48.0 ssh/handshake.go, sendKexInit: `msg.ServerHostKeyAlgos =
 * t.hostKeyAlgorithms`). An RSA key's Type() is "ssh-rsa", the SHA-1 signature, so no
 * rsa-sha2-256/512 is offered: OpenSSH 8.8+ servers (9.2's KEX_DEFAULT_PK_ALG in
 * openssh-portable myproposal.h lists only rsa-sha2-512 and rsa-sha2-256 for RSA) cannot agree.
 */
export function hostKeyAlgorithms(type: string): ServerHostKeyAlgorithm[] {
  switch (type) {
    case "ssh-ed25519":
    case "ecdsa-sha2-nistp256":
    case "ecdsa-sha2-nistp384":
    case "ecdsa-sha2-nistp521":
    case "ssh-rsa":
      return [type];
    default:
      // Go would offer it too (certificates, sk-* keys); ssh2 cannot, so the runner cannot model it.
      throw new Error(`the test runner cannot model host key type ${type}`);
  }
}

/**
 * dialWithRetry: any dial error (refused, dropped, handshake, host key mismatch, no common
 * algorithm, authentication) is retried alike; it gives up once the failed dials exceed
 * dialErrorLimit, so a limit of N makes N + 1 dials; -1 never gives up (bounded here).
 */
async function dial(connection: HostConnection): Promise<{ client: Client; attempts: number }> {
  const config = dialConfig(connection);
  const limit = connection.dialErrorLimit;
  const maxDials = limit < 0 ? UNLIMITED_DIALS : limit + 1;
  const delays = retryDelays(maxDials - 1);
  for (let dials = 1; ; dials++) {
    try {
      return { client: await dialOnce(config), attempts: dials };
    } catch (error) {
      if (!(error instanceof DialFailure)) throw error;
      if (dials >= maxDials) throw new DialError(dials, error.error, error.goMessage);
    }
    await sleep(delays[dials - 1]!);
  }
}

/** The test's stand-in for "unlimited": about 80 minutes of dials, past any test's timeout. */
const UNLIMITED_DIALS = 1000;

class DialFailure extends Error {
  constructor(
    readonly error: Error,
    readonly goMessage: string | undefined,
  ) {
    super(error.message);
  }
}

/** One dial: TCP connect, handshake with the pinned host key, public key authentication. */
function dialOnce(config: DialConfig): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let peerHostKeyAlgorithms: string[] = [];
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error === undefined) {
        resolve(client);
      } else {
        client.end();
        reject(new DialFailure(error, goDialMessage(error, config, peerHostKeyAlgorithms)));
      }
    };
    client.on("ready", () => settle());
    client.on("error", (error) => settle(error));
    client.on("close", () => settle(new Error("connection closed before the handshake finished")));
    client.connect({
      host: config.host,
      port: config.port,
      username: config.user,
      privateKey: config.privateKey,
      // ssh.Dial bounds only the TCP connect by perDialTimeout (x/crypto ssh/client.go,
      // ClientConfig.Timeout); the runner bounds the whole handshake, so a stuck server cannot
      // hang the suite.
      readyTimeout: config.timeoutMs,
      algorithms: { serverHostKey: config.hostKeyAlgorithms },
      hostVerifier: (key: Buffer) => key.equals(config.pinned),
      // The server's KEXINIT list, for Go's "no common algorithm" text.
      debug: (line: string) => {
        const match = /^Handshake: \(remote\) Host key format: (.*)$/.exec(line);
        if (match) peerHostKeyAlgorithms = match[1]!.split(",");
      },
    });
  });
}

/**
 * Go's text for a dial error, where the ssh2 error corresponds to exactly one Go error:
 * - refused: ssh.Dial returns net.Dial's error unwrapped (ssh/client.go, Dial);
 * - the rest fail in NewClientConn, "ssh: handshake failed: %w" (ssh/client.go): findCommon's
 *   AlgorithmNegotiationError (ssh/common.go), fixedHostKey.check (ssh/client.go), and
 *   clientAuthenticate's last error (ssh/client_auth.go: "none" is always tried first).
 * Others (a connection the server drops, timeouts) keep ssh2's text only.
 */
function goDialMessage(
  error: Error,
  config: DialConfig,
  peerHostKeyAlgorithms: readonly string[],
): string | undefined {
  const socket = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (socket.code === "ECONNREFUSED" && socket.address !== undefined) {
    const address = isIPv6(socket.address) ? `[${socket.address}]` : socket.address;
    return `dial tcp ${address}:${socket.port ?? config.port}: connect: connection refused`;
  }
  switch (error.message) {
    case "Handshake failed: no matching host key format":
      return (
        "ssh: handshake failed: ssh: no common algorithm for host key; " +
        `we offered: [${config.hostKeyAlgorithms.join(" ")}], ` +
        `peer offered: [${peerHostKeyAlgorithms.join(" ")}]`
      );
    case "Host denied (verification failed)":
      return "ssh: handshake failed: ssh: host key mismatch";
    case "All configured authentication methods failed":
      return (
        "ssh: handshake failed: ssh: unable to authenticate, " +
        "attempted methods [none publickey], no supported methods remain"
      );
    default:
      return undefined;
  }
}

/**
 * session.Run(text): an exec request, no pty. The provider sets session.Stdin only for a
 * non-empty stdin, and x/crypto closes the remote stdin after copying it, or at once without one
 * (ssh/session.go, Session.stdin): either way the command reads the text and then EOF.
 */
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
      // The provider's error shows both streams in one buffer, in arrival order.
      let combined = "";
      stream.setEncoding("utf8");
      stream.stderr.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        stdout += chunk;
        combined += chunk;
      });
      stream.stderr.on("data", (chunk: string) => {
        stderr += chunk;
        combined += chunk;
      });
      stream.on(
        "close",
        (code?: number | null, signal?: string, _dump?: boolean, desc?: string) => {
          const exit = goExitError(code, signal, desc);
          resolve({
            code: code ?? null,
            ...(signal ? { signal } : {}),
            stdout,
            stderr,
            // CommandOutputs.run: fmt.Errorf("%w: running %q:\n%s", err, cmd, stdouterrbuf)
            ...(exit === undefined
              ? {}
              : { failure: `${exit}: running ${goQuote(command)}:\n${combined}` }),
          });
        },
      );
      stream.end(stdin);
    });
  });
}

/** The signals x/crypto numbers (ssh/session.go, `signals`); others count as 128. */
const GO_SIGNALS: Readonly<Record<string, number>> = {
  ABRT: 6,
  ALRM: 14,
  FPE: 8,
  HUP: 1,
  ILL: 4,
  INT: 2,
  KILL: 9,
  PIPE: 13,
  QUIT: 3,
  SEGV: 11,
  TERM: 15,
};

/**
 * Session.Wait's error (x/crypto ssh/session.go, Session.wait and Waitmsg.String): none for
 * status 0; a signal without a status becomes 128 + its number.
 */
function goExitError(
  code: number | null | undefined,
  signal: string | undefined,
  desc: string | undefined,
): string | undefined {
  if (code === 0) return undefined;
  const name = signal?.replace(/^SIG/, "");
  if (typeof code !== "number" && name === undefined) {
    return "wait: remote command exited without exit status or exit signal";
  }
  const status = typeof code === "number" ? code : 128 + (GO_SIGNALS[name!] ?? 0);
  let text = `Process exited with status ${status}`;
  if (name !== undefined) text += ` from signal ${name}`;
  if (desc) text += `. Reason was: ${desc}`;
  return text;
}

/**
 * Go's %q (strconv.Quote): backslash escapes for `"`, `\` and the C control characters, \xHH for
 * other ASCII controls, printable Unicode as is, \uHHHH or \UHHHHHHHH for the rest.
 */
export function goQuote(text: string): string {
  const named: Readonly<Record<string, string>> = {
    '"': '\\"',
    "\\": "\\\\",
    "\x07": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
  };
  let out = '"';
  for (const char of text) {
    const point = char.codePointAt(0)!;
    const hex = (width: number) => point.toString(16).padStart(width, "0");
    if (named[char] !== undefined) out += named[char];
    else if (point < 0x20 || point === 0x7f) out += `\\x${hex(2)}`;
    else if (point < 0x7f) out += char;
    // A lone surrogate reaches the wire as U+FFFD, which Go prints as is.
    else if (point >= 0xd800 && point <= 0xdfff) out += "\ufffd";
    else if (/^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(char)) out += char;
    else if (point <= 0xffff) out += `\\u${hex(4)}`;
    else out += `\\U${hex(8)}`;
  }
  return `${out}"`;
}
