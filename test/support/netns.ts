// Network and mount namespaces for test hosts. A namespace is held open by a `sleep` process that
// `unshare` starts (tracked by pid and killed at the end, so nothing outlives the test process);
// every daemon and command of the host joins it with `nsenter --target <pid>`. `ip netns exec`
// is not used: it remounts /sys, which hides the cgroup mounts dockerd needs.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { eventually, GiveUp, run, runOk, startDaemon, type Daemon, type RunResult } from "./proc";

/** The subnets test links use: 10.213.N.0/24 host ↔ test machine, 10.214.N.0/24 host ↔ neighbour. */
const HOST_NET = "10.213";
const NEIGHBOUR_NET = "10.214";
/** Slots are claimed with mkdir (atomic) so parallel test files never share an address. */
const SLOT_DIR = "/run/tenantry-test-slots";

export interface NamespaceOptions {
  /** Shell run inside the new namespaces (as root) before anything joins them: bind mounts. */
  readonly setup: string;
  /** Arguments of `setup` ($1, $2, ...), so paths need no quoting. */
  readonly setupArgs: readonly string[];
  /** Also a private mount namespace (a host), or only a network namespace (a neighbour). */
  readonly mount: boolean;
  readonly log: string;
}

/** A process holding namespaces open; `exec` runs a command inside them. */
export class Namespace {
  private constructor(
    private readonly holder: Daemon,
    private readonly mount: boolean,
  ) {}

  static async open(options: NamespaceOptions): Promise<Namespace> {
    const ready = `${options.log}.ready`;
    const script = [
      "set -e",
      options.setup,
      "ip link set lo up",
      `: >'${ready.replace(/'/g, "'\\''")}'`,
      "exec sleep 2147483647",
    ].join("\n");
    const holder = startDaemon(
      "unshare",
      [
        "--net",
        ...(options.mount ? ["--mount", "--propagation", "private"] : []),
        "--",
        "/bin/sh",
        "-c",
        script,
        "tenantry-test-namespace",
        ...options.setupArgs,
      ],
      options.log,
    );
    await eventually("the namespace to be ready", () => {
      if (!holder.isRunning()) {
        throw new GiveUp(`namespace setup failed: ${readFileSync(options.log, "utf8")}`);
      }
      return existsSync(ready) ? true : undefined;
    });
    return new Namespace(holder, options.mount);
  }

  get pid(): number {
    return this.holder.pid;
  }

  /** The `nsenter` argv prefix that runs a command inside these namespaces. */
  enter(): string[] {
    return ["nsenter", "--target", String(this.pid), "--net", ...(this.mount ? ["--mount"] : [])];
  }

  exec(
    cmd: string,
    args: readonly string[],
    options: { input?: string; timeoutMs?: number } = {},
  ): Promise<RunResult> {
    const [nsenter, ...prefix] = this.enter();
    return run(nsenter!, [...prefix, "--", cmd, ...args], options);
  }

  async execOk(cmd: string, args: readonly string[], input?: string): Promise<string> {
    const result = await this.exec(cmd, args, { input });
    if (result.code !== 0) {
      throw new Error(`${cmd} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    }
    return result.stdout;
  }

  /** Starts a long-running process inside the namespaces. */
  daemon(cmd: string, args: readonly string[], log: string): Daemon {
    const [nsenter, ...prefix] = this.enter();
    return startDaemon(nsenter!, [...prefix, "--", cmd, ...args], log);
  }

  /** Kills every process still inside the network namespace, then the holder. */
  async close(): Promise<void> {
    const inode = netnsInode(this.pid);
    if (inode !== undefined) {
      for (const pid of pidsInNetns(inode)) {
        if (pid === this.pid) continue;
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone already
        }
      }
    }
    await this.holder.stop(1000);
  }
}

function netnsInode(pid: number): string | undefined {
  return readlinkNs(`/proc/${pid}/ns/net`);
}

function readlinkNs(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function pidsInNetns(inode: string): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== process.pid && readlinkNs(`/proc/${pid}/ns/net`) === inode);
}

/** A claimed slot N: the host is 10.213.N.2 (the test machine 10.213.N.1). */
export class Slot {
  private constructor(readonly n: number) {}

  static claim(): Slot {
    mkdirSync(SLOT_DIR, { recursive: true });
    const start = (process.pid % 200) + 20;
    for (let i = 0; i < 200; i++) {
      const n = ((start + i) % 230) + 20;
      const dir = join(SLOT_DIR, String(n));
      try {
        mkdirSync(dir);
      } catch {
        if (!slotOwnerAlive(dir)) {
          writeFileSync(join(dir, "pid"), String(process.pid));
          return new Slot(n);
        }
        continue;
      }
      writeFileSync(join(dir, "pid"), String(process.pid));
      return new Slot(n);
    }
    throw new Error(`no free test network slot under ${SLOT_DIR}`);
  }

  get hostAddress(): string {
    return `${HOST_NET}.${this.n}.2`;
  }
  get machineAddress(): string {
    return `${HOST_NET}.${this.n}.1`;
  }
  get hostNeighbourSide(): string {
    return `${NEIGHBOUR_NET}.${this.n}.1`;
  }
  get neighbourAddress(): string {
    return `${NEIGHBOUR_NET}.${this.n}.2`;
  }
  /** Interface names: at most 15 characters. */
  link(role: "m" | "h" | "n" | "x"): string {
    return `tnt${this.n}${role}`;
  }

  release(): void {
    rmSync(join(SLOT_DIR, String(this.n)), { recursive: true, force: true });
  }
}

function slotOwnerAlive(dir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dir, "pid"), "utf8"));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A veth pair from the machine's namespace (side `a`, unless `aNs` is given) to `bNs`, with an
 * address on each side (/24).
 */
export async function link(options: {
  a: string;
  b: string;
  aNs?: Namespace;
  bNs: Namespace;
  aAddress: string;
  bAddress: string;
}): Promise<void> {
  await run("ip", ["link", "del", options.a]); // a leftover of a killed run
  await runOk("ip", ["link", "add", options.a, "type", "veth", "peer", "name", options.b]);
  await runOk("ip", ["link", "set", options.b, "netns", String(options.bNs.pid)]);
  if (options.aNs !== undefined) {
    await runOk("ip", ["link", "set", options.a, "netns", String(options.aNs.pid)]);
    await options.aNs.execOk("ip", ["addr", "add", `${options.aAddress}/24`, "dev", options.a]);
    await options.aNs.execOk("ip", ["link", "set", options.a, "up"]);
  } else {
    await runOk("ip", ["addr", "add", `${options.aAddress}/24`, "dev", options.a]);
    await runOk("ip", ["link", "set", options.a, "up"]);
  }
  await options.bNs.execOk("ip", ["addr", "add", `${options.bAddress}/24`, "dev", options.b]);
  await options.bNs.execOk("ip", ["link", "set", options.b, "up"]);
}
