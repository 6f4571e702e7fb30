// Editing tenants.yaml beside other editors: one tenantry process at a time, nothing written
// over a change made meanwhile, and the file behind a symlink replaced, not the link.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockFileFor, replaceManifest, withManifestLock } from "../../cli/fileEdit";

let dir = "";
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "tenantry-edit-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(child.stdout.toString());
}

describe("replaceManifest", () => {
  it("writes the file a symlink points at, keeping the link and the file's mode", () => {
    const real = path.join(dir, "real.yaml");
    const link = path.join(dir, "tenants.yaml");
    writeFileSync(real, "old\n");
    chmodSync(real, 0o640);
    symlinkSync("real.yaml", link);
    replaceManifest(link, "old\n", "new\n");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toBe("new\n");
    expect(statSync(real).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).sort()).toEqual(["real.yaml", "tenants.yaml"]);
  });

  it("refuses, writing nothing, when the file changed since it was read", () => {
    const file = path.join(dir, "tenants.yaml");
    writeFileSync(file, "edited meanwhile\n");
    expect(() => replaceManifest(file, "as read\n", "new\n")).toThrow(
      /changed while this command ran .*nothing was written: run it again/,
    );
    expect(readFileSync(file, "utf8")).toBe("edited meanwhile\n");
    expect(readdirSync(dir)).toEqual(["tenants.yaml"]);
  });
});

describe("withManifestLock", () => {
  it("holds a lock file beside the real file while the edit runs, and removes it after", () => {
    const file = path.join(dir, "tenants.yaml");
    writeFileSync(file, "x\n");
    const lock = lockFileFor(file);
    expect(lock).toBe(path.join(dir, ".tenants.yaml.lock"));
    const seen = withManifestLock(file, () => readFileSync(lock, "utf8"));
    expect(seen).toBe(`${process.pid} ${hostname()}\n`);
    expect(existsSync(lock)).toBe(false);
    expect(() =>
      withManifestLock(file, () => {
        throw new Error("refused");
      }),
    ).toThrow("refused");
    expect(existsSync(lock)).toBe(false);
  });

  it("waits for a running holder, then gives up naming it", () => {
    const file = path.join(dir, "tenants.yaml");
    writeFileSync(file, "x\n");
    writeFileSync(lockFileFor(file), `${process.pid} ${hostname()}\n`); // held by a live process
    const started = Date.now();
    expect(() => withManifestLock(file, () => "never", 300)).toThrow(
      new RegExp(`locked by process ${process.pid} for 0 s`),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it("does not take over a lock its holder left behind: it says which file to remove", () => {
    const file = path.join(dir, "tenants.yaml");
    writeFileSync(file, "x\n");
    const pid = deadPid();
    writeFileSync(lockFileFor(file), `${pid} ${hostname()}\n`);
    let ran = false;
    expect(() => withManifestLock(file, () => (ran = true))).toThrow(
      `is locked by process ${pid}, which is no longer running (a killed tenantry add?); if no tenantry command is running, remove ${lockFileFor(file)} and run again`,
    );
    expect(ran).toBe(false);
  });
});
