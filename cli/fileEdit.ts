// Editing the manifest safely while other people and processes may too: one editor at a time
// (a lock file beside the manifest), nothing written over a change made meanwhile (compare
// before write), and an atomic replace of the file a symlink points at, not of the link.
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fsyncSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import * as path from "node:path";

/** How long `withManifestLock` waits for another tenantry process before it gives up. */
export const LOCK_WAIT_MS = 30_000;

/** The lock file of a manifest: beside the real file, so every link to it shares one lock. */
export function lockFileFor(file: string): string {
  const real = realpathSync(file);
  return path.join(path.dirname(real), `.${path.basename(real)}.lock`);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs `fn` holding the manifest's lock file (created exclusively, holding "pid host"). A lock
 * held by a running process is waited for; one left by a process that is gone (killed, or a
 * crashed machine) is not taken over silently, as git treats index.lock: the error names the
 * file to remove. Taking over a lock that looks stale races with a second process doing the
 * same, which is how two edits would both go through.
 */
export function withManifestLock<T>(file: string, fn: () => T, waitMs = LOCK_WAIT_MS): T {
  const lock = lockFileFor(file);
  const deadline = Date.now() + waitMs;
  let fd: number | undefined;
  for (let attempt = 0; fd === undefined; attempt++) {
    try {
      fd = openSync(lock, "wx", 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readHolder(lock);
      if (holder !== undefined && holder.host === hostname() && !isRunning(holder.pid)) {
        throw new Error(
          `${file} is locked by process ${holder.pid}, which is no longer running (a killed tenantry add?); if no tenantry command is running, remove ${lock} and run again`,
          { cause: err },
        );
      }
      if (Date.now() > deadline) {
        const who = holder === undefined ? "another process" : `process ${holder.pid}`;
        throw new Error(
          `${file} has been locked by ${who} for ${Math.round(waitMs / 1000)} s (${lock}); wait for it to finish and run again`,
          { cause: err },
        );
      }
      sleep(Math.min(200, 10 + attempt * 5) + Math.random() * 10);
    }
  }
  writeSync(fd, `${process.pid} ${hostname()}\n`);
  closeSync(fd);
  // The work under the lock is synchronous and short; a process killed inside it leaves the
  // lock behind, and the next run names it (see above) rather than guessing it is stale.
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // already gone
    }
  }
}

function readHolder(lock: string): { pid: number; host: string } | undefined {
  try {
    const [pid, host] = readFileSync(lock, "utf8").trim().split(" ");
    return Number.isInteger(Number(pid)) && host !== undefined
      ? { pid: Number(pid), host }
      : undefined;
  } catch {
    return undefined; // released meanwhile, or still being written
  }
}

/**
 * Replaces the manifest's content with `text`, atomically: a temp file beside the real file
 * (through any symlink, which stays a link), flushed, with the file's mode and owner, renamed
 * over it. Refuses, writing nothing, when the file no longer holds `expected` (another edit
 * landed since it was read).
 */
export function replaceManifest(file: string, expected: string, text: string): void {
  const real = realpathSync(file);
  // Decoded as the manifest was (a leading BOM dropped), so only a real edit differs.
  if (new TextDecoder("utf-8").decode(readFileSync(real)) !== expected) {
    throw new Error(
      `${file} changed while this command ran (another edit saved meanwhile); nothing was written: run it again`,
    );
  }
  const stat = statSync(real);
  const temp = path.join(path.dirname(real), `.${path.basename(real)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temp, "wx", 0o600);
    try {
      writeSync(fd, text);
      // The umask applies at open; the file keeps its own mode and, for root, its owner.
      fchmodSync(fd, stat.mode & 0o7777);
      if (process.getuid?.() === 0) fchownSync(fd, stat.uid, stat.gid);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, real);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // never created, or renamed already
    }
    throw err;
  }
}
