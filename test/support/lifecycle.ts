// What the lifecycle tests share: the notes image (Debian's busybox and sqlite3, imported, never
// pulled), the lifecycle manifest filled in for a test host, and one "apply" of the program's
// remote commands between two evaluations, deciding per command what pulumi-command 1.2.1 would
// run: `triggers` is replaceOnChanges (provider/pkg/provider/common/inputs.go), so a change there
// replaces the command (a new create, then the old delete); any other input change runs `update`
// when there is one, else `create` again (provider/pkg/provider/remote/commandController.go,
// Command.Update); no change runs nothing.
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { RecordedResource } from "../../cli/offline";
import type { HostConnection } from "../../remote/connection";
import { reveal, T } from "../program/helpers";
import type { TestHost } from "./host";
import { BUSYBOX } from "./images";
import { runOk } from "./proc";
import type { EvaluatedProgram } from "./program";
import { runRemote, type CommandResult } from "./runner";

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
  "rm",
  "seq",
  "sha256sum",
  "find",
  "head",
  "tail",
  "sed",
  "grep",
  "wc",
  "cp",
  "mv",
  "true",
  "kill",
  "test",
  "[",
  "dd",
  "ps",
];

/** The shared libraries a dynamically linked binary needs, as `ldd` lists them. */
function libraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  return [...out.matchAll(/(\/[^\s]+\.so[^\s]*)/g)].map((m) => m[1]!);
}

export const SQLITE3 = "/usr/bin/sqlite3";

/** busybox applets and Debian's sqlite3 with its libraries, imported under `names`. */
export async function importNotesImage(host: TestHost, names: readonly string[]): Promise<string> {
  for (const need of [BUSYBOX, SQLITE3]) {
    if (!existsSync(need))
      throw new Error(`${need} is missing (apt-get install busybox-static sqlite3)`);
  }
  const root = join(host.dir, "notes-rootfs");
  for (const d of ["bin", "www", "tmp", "usr/bin"]) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(BUSYBOX, join(root, "bin", "busybox"));
  for (const applet of APPLETS) symlinkSync("busybox", join(root, "bin", applet));
  copyFileSync(SQLITE3, join(root, "usr", "bin", "sqlite3"));
  execFileSync("chmod", [
    "0755",
    join(root, "bin", "busybox"),
    join(root, "usr", "bin", "sqlite3"),
  ]);
  for (const lib of libraries(SQLITE3)) {
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(root, lib));
  }
  writeFileSync(join(root, "www", "health"), "ok\n");
  const tar = join(host.dir, "notes-image.tar");
  await runOk("tar", ["-C", root, "-cf", tar, "."]);
  const [first, ...rest] = names;
  const id = (
    await host.dockerOk([
      "import",
      "--change",
      'CMD ["sh"]',
      "--change",
      "ENV PATH=/usr/bin:/bin",
      tar,
      first!,
    ])
  ).trim();
  for (const name of rest) await host.dockerOk(["tag", first!, name]);
  return id;
}

export const LIFECYCLE_MANIFEST = join(__dirname, "..", "fixtures", "real", "lifecycle.yaml");

/** The lifecycle manifest for `host`, with `edit` applied to its text. */
export function lifecycleManifest(
  host: TestHost,
  edit: (text: string) => string = (t) => t,
): string {
  const text = readFileSync(LIFECYCLE_MANIFEST, "utf8")
    .replaceAll("ADDRESS", host.address)
    .replaceAll("HOST_KEY", host.hostKey);
  return edit(text);
}

/** `text` with `from` replaced once; throws when `from` is not there (a silent no-op edit). */
export function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the manifest has no ${JSON.stringify(from)}`);
  return text.replace(from, to);
}

export type CommandOp = "create" | "update" | "replace" | "delete" | "none";

function comparable(r: RecordedResource, keys: readonly string[]): string {
  return JSON.stringify(keys.map((k) => reveal(r.inputs[k]) ?? null));
}

/** What pulumi-command does between the recorded `old` and `next` (see the header). */
export function commandOp(
  old: RecordedResource | undefined,
  next: RecordedResource | undefined,
): CommandOp {
  if (old === undefined) return next === undefined ? "none" : "create";
  if (next === undefined) return "delete";
  if (comparable(old, ["triggers"]) !== comparable(next, ["triggers"])) return "replace";
  const keys = [...new Set([...Object.keys(old.inputs), ...Object.keys(next.inputs)])].sort();
  return comparable(old, keys) === comparable(next, keys) ? "none" : "update";
}

/** A recorded command's connection with the test host's key (the stack secret's stand-in). */
function connectionOf(host: TestHost, r: RecordedResource): HostConnection {
  const c = reveal(r.inputs.connection) as Record<string, unknown>;
  return {
    host: c.host as string,
    port: c.port as number,
    user: c.user as string,
    hostKey: c.hostKey as string,
    dialErrorLimit: c.dialErrorLimit as number,
    perDialTimeout: c.perDialTimeout as number,
    privateKey: host.privateKey,
  };
}

/** Runs one of a recorded command's texts (create, update or delete) with its stdin. */
export function runText(
  host: TestHost,
  r: RecordedResource,
  which: "create" | "update" | "delete",
): Promise<CommandResult> {
  const text = reveal(r.inputs[which]) as string | undefined;
  if (text === undefined) throw new Error(`${r.name} has no ${which}`);
  return runRemote({
    connection: connectionOf(host, r),
    create: text,
    stdin: (reveal(r.inputs.stdin) as string | undefined) ?? "",
  });
}

export interface Applied {
  readonly name: string;
  readonly op: CommandOp;
  readonly result?: CommandResult;
}

/**
 * Runs, for the commands named in `names` (in that order), what an apply from `old` to `next`
 * would: create, update (or create again), replace (create the new one; the old delete of a
 * replaced command runs after, and these tests' commands have none that matter), or delete
 * (with the old inputs, as the provider does). Throws on the first failure, like `pulumi up`.
 */
export async function applyCommands(
  host: TestHost,
  old: EvaluatedProgram | undefined,
  next: EvaluatedProgram,
  names: readonly string[],
): Promise<Applied[]> {
  const find = (p: EvaluatedProgram | undefined, name: string) =>
    p?.resources.find((r) => r.type === T.command && r.name === name);
  const applied: Applied[] = [];
  for (const name of names) {
    const before = find(old, name);
    const after = find(next, name);
    const op = commandOp(before, after);
    let result: CommandResult | undefined;
    if (op === "create" || op === "replace") result = await runText(host, after!, "create");
    if (op === "update") {
      result = await runText(
        host,
        after!,
        after!.inputs.update === undefined ? "create" : "update",
      );
    }
    if (op === "delete" && before!.inputs.delete !== undefined) {
      result = await runText(host, before!, "delete");
    }
    if (result?.failure !== undefined) {
      throw new Error(`${name} (${op}) failed: ${result.failure}\n${result.stderr}`);
    }
    applied.push({ name, op, ...(result === undefined ? {} : { result }) });
  }
  return applied;
}

/** The recorded resource of `type` named `name`, or undefined. */
export function find(
  p: EvaluatedProgram,
  type: string,
  name: string,
): RecordedResource | undefined {
  return p.resources.find((r) => r.type === type && r.name === name);
}
