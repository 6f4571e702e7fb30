// Host identity: both ways tenantry reaches a host pin the manifest's host key. The remote
// commands (the provider's FixedHostKey) stop at the handshake, before any command runs; the
// Docker provider's ssh (dockerSshOpts) refuses a host whose key changed.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { dockerSshOpts, hostConnection } from "../../remote/connection";
import type { Host } from "../../manifest/schema";
import { siteCommand } from "../support/commands";
import { useTestHost } from "../support/fixture";
import { describeReal } from "../support/prereq";
import { run } from "../support/proc";
import { DialError, runRemote, runRemoteOk } from "../support/runner";
import { generateKey } from "../support/sshd";

describeReal("host identity", ["ssh"], () => {
  const t = useTestHost(["acme"], { bootstrap: false });

  /** The Docker provider's ssh command line, pinning `entry`'s key, with `true` as the command. */
  const dockerSsh = (entry: Host = t.host.entry()) =>
    run("ssh", [
      ...dockerSshOpts(t.host.name, entry, t.host.keyPath),
      "-p",
      String(entry.port),
      `${entry.user}@${entry.address}`,
      "true",
    ]);

  it("refuses a host whose key differs from the pinned one before any command runs", async () => {
    const otherKey = await generateKey(join(t.host.dir, "other_host_key"));
    const entry = { ...t.host.entry(), hostKey: otherKey };
    // Fewer dials than the program's limit: every one fails the same way, the test need not wait.
    const connection = { ...hostConnection(entry, t.host.privateKey), dialErrorLimit: 2 };

    const attempt = runRemote({ ...siteCommand(t.host, t.site("acme")), connection });

    await expect(attempt).rejects.toBeInstanceOf(DialError);
    await expect(attempt).rejects.toMatchObject({ attempts: 3 });
    await expect(attempt).rejects.toThrow("Host denied (verification failed)");
    expect(existsSync(t.host.layout.dir)).toBe(false);
  });

  it("runs with the pinned key, for the remote commands and for Docker's ssh", async () => {
    expect((await dockerSsh()).code).toBe(0);
    await runRemoteOk({ connection: t.host.connection(), create: "true" });
  });

  it("refuses Docker's ssh after the host key changed, until the manifest pins the new key", async () => {
    const pinned = t.host.entry();
    await t.host.sshd.restart({ newHostKey: true });
    expect(t.host.entry().hostKey).not.toBe(pinned.hostKey);

    const stale = await dockerSsh(pinned);
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain("Host key verification failed");
    const staleConnection = { ...hostConnection(pinned, t.host.privateKey), dialErrorLimit: 0 };
    await expect(runRemote({ connection: staleConnection, create: "true" })).rejects.toThrow(
      "Host denied (verification failed)",
    );

    expect((await dockerSsh()).code).toBe(0);
  });
});
