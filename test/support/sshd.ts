// A real OpenSSH server for one test file: its own config, host key and authorized keys in a temp
// dir, on a free loopback port, default MaxStartups. It runs in a private mount namespace with
// bind-mounted copies of /etc/passwd (and, for test users, group, shadow and sudoers): test users
// exist only there, and root's home is a temp dir, so the machine's own dotfiles (a slow
// .bashrc) do not reach the sessions. Nothing on the machine is changed.
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sudoersLine } from "../../remote/operation";
import { eventually, GiveUp, runOk, startDaemon, type Daemon } from "./proc";

export interface SshUser {
  readonly name: string;
  /** Whether the user gets `sudoersLine(name)` in the namespace's sudoers. */
  readonly sudo: boolean;
}

export interface SshdOptions {
  /** Directory of the test host; sshd's files go below it. */
  readonly dir: string;
  readonly port: number;
  /** authorized_keys file for every user. */
  readonly authorizedKeys: string;
  /** PATH of SSH sessions (sshd `SetEnv`) and sudo's secure_path. */
  readonly path: string;
  /** TMPDIR of SSH sessions: scratch dirs of killed runs stay inside the test dir. */
  readonly tmp: string;
  /** Non-root users that exist only inside the server's mount namespace. */
  readonly users: readonly SshUser[];
  /** Files covered by /dev/null inside the namespace (the machine's own docker). */
  readonly hide: readonly string[];
  /**
   * Type of the server's one host key (default ed25519). "rsa" makes a server that, like any
   * OpenSSH 8.8+, signs only with rsa-sha2-256/512: what a host pinned as `ssh-rsa ...` offers.
   */
  readonly hostKeyType?: HostKeyType;
}

export type HostKeyType = "ed25519" | "rsa";

const FIRST_TEST_UID = 64_000;

export class TestSshd {
  private daemon: Daemon | undefined;
  private readonly files: ReturnType<typeof sshdFiles>;

  private constructor(private readonly options: SshdOptions) {
    this.files = sshdFiles(options.dir, options.hostKeyType ?? "ed25519");
  }

  static async start(options: SshdOptions): Promise<TestSshd> {
    const sshd = new TestSshd(options);
    mkdirSync(sshd.files.dir, { recursive: true });
    writeAccounts(options);
    await sshd.newHostKey();
    writeFileSync(sshd.files.config, sshdConfig(options, sshd.files));
    await sshd.launch();
    return sshd;
  }

  /** The pinned form of the host key: "ssh-ed25519 AAAA…" (or "ssh-rsa AAAA…") without a comment. */
  get hostKey(): string {
    return publicKey(this.files.hostKey);
  }

  /** What sshd logged so far (-e: to stderr, kept in a file). */
  log(): string {
    return readFileSync(this.files.log, "utf8");
  }

  get pid(): number | undefined {
    return this.daemon?.pid;
  }

  /** Stops the server and starts it again on the same port, with a new host key if asked. */
  async restart(options: { newHostKey: boolean }): Promise<void> {
    await this.stop();
    if (options.newHostKey) await this.newHostKey();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.daemon?.stop();
    this.daemon = undefined;
  }

  private async newHostKey(): Promise<void> {
    rmSync(this.files.hostKey, { force: true });
    rmSync(`${this.files.hostKey}.pub`, { force: true });
    await runOk("ssh-keygen", [
      "-q",
      "-t",
      this.options.hostKeyType ?? "ed25519",
      "-N",
      "",
      "-C",
      "",
      "-f",
      this.files.hostKey,
    ]);
  }

  private async launch(): Promise<void> {
    // sshd refuses to start without its privilege separation directory.
    mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    const accounts = accountFiles(this.options.dir);
    const withUsers = this.options.users.length > 0;
    const withSudoers = withUsers && existsSync("/etc/sudoers");
    // Paths are positional parameters of a constant script, so nothing needs quoting.
    const mountAndRun = [
      "set -e",
      'mount --bind "$1" /etc/passwd',
      'if [ "$2" = yes ]; then mount --bind "$3" /etc/group; mount --bind "$4" /etc/shadow; fi',
      'if [ "$5" = yes ]; then mount --bind "$6" /etc/sudoers; fi',
      "config=$7; shift 7",
      'for file; do mount --bind /dev/null "$file"; done',
      'exec /usr/sbin/sshd -D -e -f "$config"',
    ].join("\n");
    const log = this.files.log;
    writeFileSync(log, "");
    // unshare execs the shell, which execs sshd: the pid we track is sshd's.
    this.daemon = startDaemon(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "--",
        "/bin/sh",
        "-c",
        mountAndRun,
        "tenantry-test-sshd",
        accounts.passwd,
        withUsers ? "yes" : "no",
        accounts.group,
        accounts.shadow,
        withSudoers ? "yes" : "no",
        accounts.sudoers,
        this.files.config,
        ...this.options.hide,
      ],
      log,
    );
    const daemon = this.daemon;
    await eventually(
      `sshd to listen on port ${this.options.port}`,
      () => {
        if (!daemon.isRunning()) throw new GiveUp(`sshd exited: ${readFileSync(log, "utf8")}`);
        return readFileSync(log, "utf8").includes("Server listening") ? true : undefined;
      },
      10_000,
    );
  }
}

/** A new ed25519 key pair at `path` (and `path`.pub), replacing any; returns the public key. */
export async function generateKey(path: string): Promise<string> {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  await runOk("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path]);
  return publicKey(path);
}

/** The public half of the key at `path` as a manifest pins it: "TYPE BASE64", no comment. */
function publicKey(path: string): string {
  const [type, blob] = readFileSync(`${path}.pub`, "utf8").trim().split(/\s+/);
  return `${type} ${blob}`;
}

function sshdFiles(dir: string, hostKeyType: HostKeyType) {
  const base = join(dir, "sshd");
  return {
    dir: base,
    config: join(base, "sshd_config"),
    hostKey: join(base, `ssh_host_${hostKeyType}_key`),
    pid: join(base, "sshd.pid"),
    log: join(base, "sshd.log"),
  };
}

function accountFiles(dir: string) {
  const etc = join(dir, "etc");
  return {
    etc,
    passwd: join(etc, "passwd"),
    group: join(etc, "group"),
    shadow: join(etc, "shadow"),
    sudoers: join(etc, "sudoers"),
  };
}

function homeDir(dir: string, user: string): string {
  return join(dir, "home", user);
}

/** sshd_config: only what the test needs; MaxStartups stays at its default (10:30:100). */
function sshdConfig(options: SshdOptions, files: ReturnType<typeof sshdFiles>): string {
  return [
    `Port ${options.port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${files.hostKey}`,
    `AuthorizedKeysFile ${options.authorizedKeys}`,
    `PidFile ${files.pid}`,
    "StrictModes no",
    "UsePAM no",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    "PrintMotd no",
    `SetEnv PATH=${options.path} TMPDIR=${options.tmp}`,
    "",
  ].join("\n");
}

/** The namespace's account files: copies of the machine's, plus the test users. */
function writeAccounts(options: SshdOptions): void {
  const files = accountFiles(options.dir);
  mkdirSync(files.etc, { recursive: true });
  const rootHome = homeDir(options.dir, "root");
  mkdirSync(rootHome, { recursive: true });
  const passwd = readFileSync("/etc/passwd", "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => {
      const fields = line.split(":");
      if (fields[0] !== "root" || fields.length < 7) return line;
      fields[5] = rootHome;
      return fields.join(":");
    });
  const group = readFileSync("/etc/group", "utf8").trimEnd().split("\n");
  const shadow = existsSync("/etc/shadow")
    ? readFileSync("/etc/shadow", "utf8").trimEnd().split("\n")
    : [];
  const taken = new Set(passwd.map((line) => Number(line.split(":")[2])));
  let uid = FIRST_TEST_UID;
  for (const user of options.users) {
    while (taken.has(uid)) uid++;
    taken.add(uid);
    const home = homeDir(options.dir, user.name);
    mkdirSync(home, { recursive: true });
    chownSync(home, uid, uid);
    passwd.push(`${user.name}:x:${uid}:${uid}:tenantry test:${home}:/bin/sh`);
    group.push(`${user.name}:x:${uid}:`);
    // "*": no password, and not "!" which sshd (without PAM) treats as a locked account.
    shadow.push(`${user.name}:*:19000:0:99999:7:::`);
  }
  writeFileSync(files.passwd, passwd.join("\n") + "\n", { mode: 0o644 });
  writeFileSync(files.group, group.join("\n") + "\n", { mode: 0o644 });
  writeFileSync(files.shadow, shadow.join("\n") + "\n", { mode: 0o640 });
  if (existsSync("/etc/sudoers")) {
    const rules = options.users.filter((u) => u.sudo).map((u) => sudoersLine(u.name));
    const sudoers = [
      readFileSync("/etc/sudoers", "utf8").trimEnd(),
      "# tenantry test: the session PATH (stub docker) for commands run through sudo",
      `Defaults secure_path="${options.path}"`,
      ...rules,
      "",
    ].join("\n");
    // sudo refuses a sudoers file that is not root's and read-only.
    writeFileSync(files.sudoers, sudoers, { mode: 0o440 });
  }
}
