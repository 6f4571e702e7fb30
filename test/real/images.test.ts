// The image cleanup step on a real host (Debian's dockerd 20.10), run over SSH as `deploy`
// exactly as the program records it: an image a container uses (running or stopped) is kept
// and the step succeeds, an unused one is removed, a missing one is no error.
import { join } from "node:path";
import { beforeAll, expect, it } from "vitest";
import { imageRemoveScript, userCommand } from "../../remote/images";
import { useTestHost } from "../support/fixture";
import { importBusyboxImage } from "../support/images";
import { describeReal } from "../support/prereq";
import { runRemote } from "../support/runner";

describeReal("removing images once no tenant runs them", [], () => {
  const t = useTestHost([], { bootstrap: false });

  const cleanup = (ref: string) =>
    runRemote(
      { connection: t.host.connection(), delete: userCommand(imageRemoveScript(ref)) },
      "delete",
    );
  const present = async (ref: string): Promise<boolean> =>
    (await t.host.docker(["image", "inspect", ref])).code === 0;

  beforeAll(async () => {
    await importBusyboxImage(t.host, ["tenantry-test/web:1"]);
    // A second, separate image: the same files imported again get another id.
    await t.host.dockerOk(["import", join(t.host.dir, "image.tar"), "tenantry-test/unused:1"]);
    // A stopped container (created, never started) and a running one, of the same image.
    await t.host.dockerOk(["create", "--name", "stopped", "tenantry-test/web:1", "sleep", "600"]);
    await t.host.dockerOk([
      "run",
      "-d",
      "--name",
      "running",
      "tenantry-test/web:1",
      "sleep",
      "600",
    ]);
  }, 120_000);

  it("keeps an image containers use, names them, and does not fail the apply", async () => {
    const result = await cleanup("tenantry-test/web:1");
    expect(result.failure).toBeUndefined();
    expect(result.stdout).toMatch(
      /^tenantry: kept tenantry-test\/web:1: used by containers [0-9a-f]{12} [0-9a-f]{12} \n$/,
    );
    expect(await present("tenantry-test/web:1")).toBe(true);
    // Docker itself refuses the plain removal the provider would make (keepLocally false) of an
    // image's only tag while a container uses it: the apply would fail there.
    const refused = await t.host.docker(["image", "rm", "tenantry-test/web:1"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("unable to remove repository reference");
  });

  it("keeps a second tag of an image in use as well", async () => {
    await t.host.dockerOk(["tag", "tenantry-test/web:1", "tenantry-test/alias:1"]);
    const result = await cleanup("tenantry-test/alias:1");
    expect(result.failure).toBeUndefined();
    expect(result.stdout).toContain("tenantry: kept tenantry-test/alias:1: used by containers");
    expect(await present("tenantry-test/alias:1")).toBe(true);
  });

  it("removes an image nothing uses, and then finds nothing to do", async () => {
    const first = await cleanup("tenantry-test/unused:1");
    expect(first.failure).toBeUndefined();
    expect(first.stdout).toBe("tenantry: removed tenantry-test/unused:1\n");
    expect(await present("tenantry-test/unused:1")).toBe(false);
    const again = await cleanup("tenantry-test/unused:1");
    expect(again.failure).toBeUndefined();
    expect(again.stdout).toBe("tenantry: tenantry-test/unused:1 is not on the host\n");
  });

  it("removes the image once its last container is gone", async () => {
    await t.host.dockerOk(["rm", "--force", "stopped", "running"]);
    const result = await cleanup("tenantry-test/web:1");
    expect(result.failure).toBeUndefined();
    expect(result.stdout).toBe("tenantry: removed tenantry-test/web:1\n");
    expect(await present("tenantry-test/web:1")).toBe(false);
  });
});
