// How the program's remote commands reach a host, against Debian's OpenSSH, dialled as
// @pulumi/command 1.2.1's Go client dials (test/support/runner.ts models it and cites the
// source): the pinned key's type is the only host key algorithm offered, every dial error is
// retried with backoff, and a failed command gives the provider's error text.
import { mkdirSync, chmodSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerSshOpts, hostConnection, type SshTarget } from "../../remote/connection";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { eventually, freePort, removeDir, run, tempDir } from "../support/proc";
import {
  DialError,
  goQuote,
  hostKeyAlgorithms,
  retryDelays,
  runRemote,
  runRemoteOk,
} from "../support/runner";
import { generateKey, TestSshd } from "../support/sshd";

describe("the provider's dial and error texts, as the runner models them", () => {
  it.each([
    ["ssh-ed25519", ["ssh-ed25519"]],
    ["ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"]],
    ["ecdsa-sha2-nistp521", ["ecdsa-sha2-nistp521"]],
    // Only the SHA-1 signature: no rsa-sha2-256/512, whatever the server could do.
    ["ssh-rsa", ["ssh-rsa"]],
  ])("offers exactly the pinned key's own algorithm for %s", (type, offered) => {
    expect(hostKeyAlgorithms(type)).toEqual(offered);
  });

  it("waits 100 ms between the first dials, ×1.5 each time, never more than 5 s", () => {
    expect(retryDelays(12)).toEqual([
      100, 150, 225, 337.5, 506.25, 759.375, 1139.0625, 1708.59375, 2562.890625, 3844.3359375, 5000,
      5000,
    ]);
  });

  it.each([
    ["true", '"true"'],
    ['echo "a" \\ b', '"echo \\"a\\" \\\\ b"'],
    ["set -e\n\techo\r\x07\x0b\x1b\x7f", '"set -e\\n\\techo\\r\\a\\v\\x1b\\x7f"'],
    ["café ✓ 😀", '"café ✓ 😀"'],
    ["nbsp\u00a0sep\u2028", '"nbsp\\u00a0sep\\u2028"'],
  ])("quotes %j as Go's strconv.Quote does", (command, quoted) => {
    expect(goQuote(command)).toBe(quoted);
  });
});

describeReal("dialing a host like pulumi-command 1.2.1", ["ssh"], () => {
  const t = useTestHost([], { bootstrap: false });

  it("runs the command over a pinned ed25519 host key, with its stdin and then EOF", async () => {
    const connection = t.host.connection();
    expect(connection.hostKey).toMatch(/^ssh-ed25519 AAAA/);

    const result = await runRemoteOk({ connection, create: "cat; echo done", stdin: "line 1\n" });

    expect(result).toMatchObject({ code: 0, stdout: "line 1\ndone\n", stderr: "", attempts: 1 });
    expect(result.failure).toBeUndefined();
  });

  it("fails a command that exits non-zero with the provider's text: status, command, output", async () => {
    const create = "echo to stdout\nexit 3";

    const result = await runRemote({ connection: t.host.connection(), create });

    expect(result.code).toBe(3);
    expect(result.failure).toBe(
      'Process exited with status 3: running "echo to stdout\\nexit 3":\nto stdout\n',
    );
    await expect(runRemoteOk({ connection: t.host.connection(), create })).rejects.toThrow(
      'create: Process exited with status 3: running "echo to stdout\\nexit 3"',
    );
  });

  it("reports a command killed by a signal as Go does: status 128 + the signal's number", async () => {
    const result = await runRemote({ connection: t.host.connection(), create: "kill -KILL $$" });

    expect(result).toMatchObject({ code: null, signal: "SIGKILL" });
    expect(result.failure).toBe(
      'Process exited with status 137 from signal KILL: running "kill -KILL $$":\n',
    );
  });

  it("retries a refused dial with the provider's backoff, then gives Go's error", async () => {
    // Nothing listens on a fresh port: every dial is refused at once, so the time is the waits.
    const port = await freePort();
    const connection = { ...t.host.connection(), port, dialErrorLimit: 3 };
    const began = performance.now();

    const error = await runRemote({ connection, create: "true" }).catch((e: unknown) => e);

    const elapsed = performance.now() - began;
    expect(error).toBeInstanceOf(DialError);
    expect(error).toMatchObject({ attempts: 4 });
    expect((error as DialError).message).toBe(
      `after 3 failed attempts: dial tcp ${connection.host}:${port}: connect: connection refused` +
        ` (ssh2: connect ECONNREFUSED ${connection.host}:${port})`,
    );
    // 100 + 150 + 225 ms of waits; the margin is for a slow machine, not a different schedule.
    expect(elapsed).toBeGreaterThanOrEqual(470);
    expect(elapsed).toBeLessThan(3000);
  });

  it("retries a failed authentication like any other dial error", async () => {
    const dir = tempDir("tenantry-dial-");
    try {
      await generateKey(join(dir, "stranger"));
      const connection = {
        ...t.host.connection(),
        privateKey: readFileSync(join(dir, "stranger"), "utf8"),
        dialErrorLimit: 1,
      };

      const attempt = runRemote({ connection, create: "true" });

      await expect(attempt).rejects.toMatchObject({
        attempts: 2,
        message:
          "after 1 failed attempts: ssh: handshake failed: ssh: unable to authenticate, attempted" +
          " methods [none publickey], no supported methods remain" +
          " (ssh2: All configured authentication methods failed)",
      });
    } finally {
      removeDir(dir);
    }
  });

  describe("a host whose only host key is RSA, pinned as `ssh-rsa ...`", () => {
    // A server of its own: the test host's key is ed25519, as the README tells users to pin.
    let sshd: TestSshd | undefined;
    let dir = "";
    let keyPath = "";
    let target: SshTarget;

    beforeAll(async () => {
      dir = tempDir("tenantry-rsa-host-");
      keyPath = join(dir, "client_key");
      await generateKey(keyPath);
      const authorizedKeys = join(dir, "authorized_keys");
      writeFileSync(authorizedKeys, readFileSync(`${keyPath}.pub`), { mode: 0o644 });
      const tmp = join(dir, "tmp");
      mkdirSync(tmp);
      chmodSync(tmp, 0o1777);
      const port = await freePort();
      sshd = await TestSshd.start({
        dir,
        port,
        authorizedKeys,
        path: "/usr/local/bin:/usr/bin:/bin",
        tmp,
        users: [],
        hide: [],
        hostKeyType: "rsa",
      });
      target = { address: "127.0.0.1", port, user: "root", hostKey: sshd.hostKey };
    });

    afterAll(async () => {
      await sshd?.stop();
      if (dir !== "") removeDir(dir);
    });

    it("fails the handshake on every dial: the client offers ssh-rsa, OpenSSH 9.2 only rsa-sha2-*", async () => {
      expect(target.hostKey).toMatch(/^ssh-rsa AAAA/);
      const connection = {
        ...hostConnection(target, readFileSync(keyPath, "utf8")),
        // Fewer dials than the program's 30 (about 100 s of waits): each fails the same way.
        dialErrorLimit: 2,
      };

      const attempt = runRemote({ connection, create: "true" });

      await expect(attempt).rejects.toMatchObject({
        attempts: 3,
        message:
          "after 2 failed attempts: ssh: handshake failed: ssh: no common algorithm for host key;" +
          " we offered: [ssh-rsa], peer offered: [rsa-sha2-512 rsa-sha2-256]" +
          " (ssh2: Handshake failed: no matching host key format)",
      });
      // The server's side of each of the three dials: what reached it on the wire was ssh-rsa alone.
      // sshd may log the last refusal a moment after the client gave up: wait for it (bounded).
      const refusals = await eventually("sshd to log the third refusal", () => {
        const lines = sshd!
          .log()
          .split("\n")
          .filter((line) => line.includes("no matching host key type found. Their offer: ssh-rsa"));
        return lines.length >= 3 ? lines : undefined;
      });
      expect(refusals).toHaveLength(3);
    });

    it("is reachable with the same pin by OpenSSH's client (Docker's transport), which signs with rsa-sha2", async () => {
      const ssh = await run("ssh", [
        ...dockerSshOpts("rsa-host", target, keyPath),
        "-p",
        String(target.port),
        `${target.user}@${target.address}`,
        "echo reached",
      ]);

      expect(ssh.code, ssh.stderr).toBe(0);
      expect(ssh.stdout).toBe("reached\n");
    });
  });
});
