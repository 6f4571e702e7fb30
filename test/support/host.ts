// A test host: a real nginx and a real sshd on loopback, a stub `docker` on the session PATH, and
// the manifest entry, layout and connection the program would use for it. One per test file.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostConnection, type HostConnection } from "../../remote/connection";
import type { Host } from "../../manifest/schema";
import { hostLayout, type HostLayout } from "../../remote/scripts";
import { TestNginx } from "./nginx";
import { freePort, removeDir, tempDir } from "./proc";
import { generateKey, TestSshd, type SshUser } from "./sshd";

export interface TestHostOptions {
  /** The host's name in the manifest (bootstrap messages, HostKeyAlias). */
  readonly name?: string;
  /** Non-root SSH users, existing only inside the sshd's mount namespace. */
  readonly users?: readonly SshUser[];
}

/** PATH of the host's SSH sessions: the stub docker first, then the usual system dirs. */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export class TestHost {
  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly nginx: TestNginx,
    readonly sshd: TestSshd,
    readonly nginxPort: number,
    readonly sshPort: number,
    /** Client key file (for the system ssh) and its content (for the runner). */
    readonly keyPath: string,
    readonly privateKey: string,
  ) {}

  /** Starts nginx and sshd; whatever started is stopped again if a later step fails. */
  static async start(options: TestHostOptions = {}): Promise<TestHost> {
    const dir = tempDir("tenantry-host-");
    const stopped: Array<() => Promise<void>> = [];
    try {
      const keyPath = join(dir, "client_key");
      await generateKey(keyPath);
      const authorizedKeys = join(dir, "authorized_keys");
      writeFileSync(authorizedKeys, readFileSync(`${keyPath}.pub`), { mode: 0o644 });
      writeStubDocker(dir);
      mkdirSync(sessionTmp(dir));
      chmodSync(sessionTmp(dir), 0o1777);

      const nginx = await TestNginx.start(dir);
      stopped.push(() => nginx.stop());
      const nginxPort = await freePort();
      const sshPort = await freePort();
      const sshd = await TestSshd.start({
        dir,
        port: sshPort,
        authorizedKeys,
        path: `${stubDir(dir)}:${SYSTEM_PATH}`,
        tmp: sessionTmp(dir),
        users: options.users ?? [],
        // Sessions see only the stub docker, whatever the machine has installed.
        hide: SYSTEM_PATH.split(":")
          .map((d) => join(d, "docker"))
          .filter((f) => existsSync(f)),
      });
      return new TestHost(
        options.name ?? "vps1",
        dir,
        nginx,
        sshd,
        nginxPort,
        sshPort,
        keyPath,
        readFileSync(keyPath, "utf8"),
      );
    } catch (error) {
      for (const stop of stopped.reverse()) await stop();
      removeDir(dir);
      throw error;
    }
  }

  /** The layout the tests use: tenantry's dir and include under the test dir. */
  get layout(): HostLayout {
    return hostLayout(this.entry().nginx);
  }

  /** The host's manifest entry as the schema produces it, for `user`. */
  entry(user = "root"): Host {
    return {
      address: "127.0.0.1",
      user,
      port: this.sshPort,
      hostKey: this.sshd.hostKey,
      memoryMb: 2048,
      reserveMb: 256,
      portBase: 10000,
      nginx: {
        dir: join(this.dir, "tenantry"),
        include: this.nginx.include,
        config: this.nginx.config,
        listen: [`127.0.0.1:${this.nginxPort}`],
      },
    };
  }

  /** The connection every remote command of the host gets, exactly as the program builds it. */
  connection(user = "root"): HostConnection {
    return hostConnection(this.entry(user), this.privateKey);
  }

  /** The stub `docker` on the session PATH: with a daemon that answers, one that does not, or none. */
  setDocker(state: DockerState): void {
    if (state === "absent") rmSync(join(stubDir(this.dir), "docker"), { force: true });
    else writeStubDocker(this.dir, state);
  }

  async stop(): Promise<void> {
    try {
      await this.sshd.stop();
    } finally {
      await this.nginx.stop();
      removeDir(this.dir);
    }
  }
}

function sessionTmp(dir: string): string {
  return join(dir, "tmp");
}

/** Directory of the stub tools, first on the session PATH. */
export function stubDir(dir: string): string {
  return join(dir, "bin");
}

export type DockerState = "running" | "stopped" | "absent";

/** A `docker` that is enough for the bootstrap's checks: a version, and `docker info`. */
function writeStubDocker(dir: string, state: "running" | "stopped" = "running"): void {
  mkdirSync(stubDir(dir), { recursive: true, mode: 0o755 });
  const path = join(stubDir(dir), "docker");
  writeFileSync(
    path,
    [
      "#!/bin/sh",
      "# Stub docker for tenantry's real tests.",
      'case "${1:-}" in',
      state === "running"
        ? "  info) echo 'Server Version: 0.0.0-tenantry-stub' ;;"
        : "  info) echo 'Cannot connect to the Docker daemon' >&2; exit 1 ;;",
      "  *) echo 'Docker version 0.0.0-tenantry-stub' ;;",
      "esac",
      "",
    ].join("\n"),
  );
  chmodSync(path, 0o755);
}
