// A real nginx for one test file: its own prefix and config in the test dir, including the
// tenantry include's directory inside its http block as Debian's nginx.conf includes conf.d.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { childPids, eventually, GiveUp, startDaemon, type Daemon } from "./proc";

export class TestNginx {
  private constructor(
    /** Main config file, as the layout passes it to `nginx -c`. */
    readonly config: string,
    /** The file tenantry's bootstrap writes, inside a directory nginx includes (`*.conf`). */
    readonly include: string,
    private readonly daemon: Daemon,
  ) {}

  /** Starts nginx (no server yet: the bootstrap adds the catch-all) from files under `dir`. */
  static async start(dir: string): Promise<TestNginx> {
    const prefix = join(dir, "nginx");
    const confD = join(dir, "conf.d");
    mkdirSync(join(prefix, "temp"), { recursive: true });
    mkdirSync(confD, { recursive: true });
    const config = join(dir, "nginx.conf");
    const pidFile = join(prefix, "nginx.pid");
    writeFileSync(
      config,
      [
        "# Test nginx: every path is inside the test's temp dir.",
        "worker_processes 1;",
        "daemon off;",
        `pid ${pidFile};`,
        `error_log ${join(prefix, "error.log")};`,
        "events { worker_connections 512; }",
        "http {",
        "    access_log off;",
        `    client_body_temp_path ${join(prefix, "temp", "body")};`,
        `    proxy_temp_path ${join(prefix, "temp", "proxy")};`,
        `    include ${confD}/*.conf;`,
        "}",
        "",
      ].join("\n"),
    );
    const daemon = startDaemon(
      "nginx",
      ["-c", config, "-p", `${prefix}/`],
      join(prefix, "run.log"),
    );
    const nginx = new TestNginx(config, join(confD, "tenantry.conf"), daemon);
    await eventually("nginx to start", () => {
      if (!daemon.isRunning()) {
        throw new GiveUp(`nginx exited: ${readFileSync(daemon.log, "utf8")}`);
      }
      const written = readFileSync(pidFile, "utf8").trim();
      return Number(written) === daemon.pid && nginx.workerPids().length > 0 ? true : undefined;
    });
    return nginx;
  }

  get masterPid(): number {
    return this.daemon.pid;
  }

  /** The worker processes: a reload replaces them, so unchanged pids mean no reload. */
  workerPids(): number[] {
    return childPids(this.daemon.pid);
  }

  /** nginx's [emerg] lines so far (a reload that could not bind a port only says so there). */
  emergencies(): string[] {
    const log = join(dirname(this.config), "nginx", "error.log");
    if (!existsSync(log)) return [];
    return readFileSync(log, "utf8")
      .split("\n")
      .filter((line) => line.includes("[emerg]"));
  }

  stop(): Promise<void> {
    return this.daemon.stop();
  }
}
