// Images for the real tests, built on the test host without any registry: a rootfs holding
// Debian's static busybox (sh, httpd, nc, wget...) imported with `docker import` under the names
// the test manifest uses, so the program's RemoteImage finds them locally and nothing is pulled.
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestHost } from "./host";
import { runOk } from "./proc";

export const BUSYBOX = "/bin/busybox";
const APPLETS = [
  "sh",
  "httpd",
  "nc",
  "wget",
  "cat",
  "echo",
  "mkdir",
  "sleep",
  "ls",
  "printf",
  "env",
];

/** Imports one busybox image on the host's daemon under every given name; resolves to its ID. */
export async function importBusyboxImage(
  host: TestHost,
  names: readonly string[],
): Promise<string> {
  if (!existsSync(BUSYBOX))
    throw new Error(`${BUSYBOX} is missing (apt-get install busybox-static)`);
  const root = join(host.dir, "image-rootfs");
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "www"), { recursive: true });
  mkdirSync(join(root, "tmp"), { recursive: true });
  await runOk("cp", [BUSYBOX, join(root, "bin", "busybox")]);
  for (const applet of APPLETS) symlinkSync("busybox", join(root, "bin", applet));
  writeFileSync(join(root, "www", "health"), "ok\n");
  const tar = join(host.dir, "image.tar");
  await runOk("tar", ["-C", root, "-cf", tar, "."]);
  const [first, ...rest] = names;
  const id = (await host.dockerOk(["import", "--change", 'CMD ["sh"]', tar, first!])).trim();
  for (const name of rest) await host.dockerOk(["tag", first!, name]);
  return id;
}
