// Runs the real `tenantry` command (bin/tenantry.cjs) as a user does, in scratch directories
// holding copies of the example files, plus the text helpers the CLI tests compute
// expectations with.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { parseManifest } from "../../manifest/load";
import type { Manifest } from "../../manifest/schema";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin", "tenantry.cjs");

/** The annotated example manifest and the project file, as shipped. */
export const EXAMPLE = readFileSync(path.join(ROOT, "tenants.yaml"), "utf8");
export const PULUMI_YAML = readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
export const PULUMI_DEV_YAML = readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `tenantry ARGS` in `cwd`; resolves with the exit code and output, whatever the code. */
export function tenantry(cwd: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, encoding: "utf8", timeout: 45_000 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") {
          reject(new Error(`tenantry ${args.join(" ")}: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
      },
    );
  });
}

/**
 * One fresh mkdtemp directory for the test file, removed after it. The returned function makes
 * a subdirectory holding the given files and returns its path.
 */
export function useScratch(): (name: string, files: Record<string, string>) => string {
  let root: string | undefined;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), "tenantry-cli-"));
  });
  afterAll(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });
  return (name, files) => {
    if (root === undefined) throw new Error("useScratch: call the directory maker inside a test");
    const dir = path.join(root, name);
    mkdirSync(dir);
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
    return dir;
  };
}

export function read(dir: string, file = "tenants.yaml"): string {
  return readFileSync(path.join(dir, file), "utf8");
}

export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** The manifest the text describes, with defaults applied; throws if the text is invalid. */
export function manifestOf(text: string): Manifest {
  const result = parseManifest(text, "tenants.yaml");
  if (!result.ok) throw new Error(`test manifest is invalid: ${JSON.stringify(result.problems)}`);
  return result.loaded.manifest;
}

/**
 * 1-based line and column where the last step starts, each step searched in `text` from where
 * the previous one starts: `positionOf(text, "\n  tenant1:", "slot: ", "3")` is where tenant1's
 * slot value is.
 */
export function positionOf(text: string, ...steps: string[]): { line: number; col: number } {
  let offset = 0;
  for (const step of steps) {
    const found = text.indexOf(step, offset);
    if (found < 0) throw new Error(`positionOf: "${step}" not found after offset ${offset}`);
    offset = found;
  }
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, col: offset - before.lastIndexOf("\n") };
}

/**
 * Splits `after` into the lines it shares with `before` (longest common head and tail) and the
 * block between them. When `after` is `before` with one block of lines inserted, `kept` equals
 * `before.split("\n")`; any other edit shows up as a difference there.
 */
export function splitInsertion(
  before: string,
  after: string,
): { kept: string[]; inserted: string[]; line: number } {
  const old = before.split("\n");
  const now = after.split("\n");
  let head = 0;
  while (head < old.length && head < now.length && old[head] === now[head]) head++;
  let tail = 0;
  while (
    tail < old.length - head &&
    tail < now.length - head &&
    old[old.length - 1 - tail] === now[now.length - 1 - tail]
  ) {
    tail++;
  }
  return {
    kept: [...now.slice(0, head), ...now.slice(now.length - tail)],
    inserted: now.slice(head, now.length - tail),
    line: head + 1,
  };
}

/** Problem lines (`FILE:LINE:COL path: message`) and the closing count line, from stderr. */
export function problemLines(stderr: string): { problems: string[]; summary: string } {
  const lines = stderr.trimEnd().split("\n");
  return { problems: lines.slice(0, -1), summary: lines[lines.length - 1] ?? "" };
}

export function isManaged(m: Manifest, domain: string): boolean {
  return Object.keys(m.dns.zones).some((zone) => domain === zone || domain.endsWith(`.${zone}`));
}

/**
 * Host port of every routed service: the fixed one, else portBase + slot*10 + its portOffset
 * (a single-service app's one service: 0).
 */
export function expectedPorts(m: Manifest, tenant: string): Array<[string, number]> {
  const t = m.tenants[tenant]!;
  const base = m.hosts[t.host]!.portBase;
  return Object.entries(m.apps[t.app]!.services).flatMap(([svc, s]) =>
    s.route === undefined ? [] : [[svc, t.ports[svc] ?? base + t.slot * 10 + (s.portOffset ?? 0)]],
  );
}

/** The slot after the highest one any tenant on the host holds or held (hosts.<h>.retired). */
export function slotAfterHighest(m: Manifest, host: string): number {
  const slots = Object.values(m.tenants)
    .filter((t) => t.host === host)
    .map((t) => t.slot);
  return Math.max(0, ...slots, ...Object.values(m.hosts[host]!.retired ?? {})) + 1;
}

/** The example with a second, larger host vps2 (portBase 20000, a name, not an IP). */
export function withSecondHost(text: string): string {
  const hostKey = /^ {4}hostKey: .*$/m.exec(text)![0];
  const vps2 = [
    "  vps2:",
    "    address: vps2.example.net",
    "    user: root",
    hostKey,
    "    memoryMb: 4096",
    "    portBase: 20000",
    "",
  ].join("\n");
  return text.replace("\ndns:\n", `\n${vps2}\ndns:\n`);
}

/** The text without a tenant's entry (its lines up to the next entry or section). */
export function withoutTenant(text: string, name: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(`  ${name}:`);
  if (start < 0) throw new Error(`withoutTenant: no entry ${name}`);
  let end = start + 1;
  while (end < lines.length && !/^ {0,2}\S/.test(lines[end]!)) end++;
  return [...lines.slice(0, start), ...lines.slice(end)].join("\n");
}

/**
 * The example with four independent mistakes: a misspelt host key, a domain another tenant
 * serves, an unknown plan and a slot another tenant holds.
 */
export function brokenExample(): string {
  const edits: Array<[string, string]> = [
    ["    port: 22 #", "    prot: 22 #"],
    ["domain: company2.example.com", "domain: mcoder.example.com"],
    ["    plan: team\n    host: vps1\n    slot: 3", "    plan: teem\n    host: vps1\n    slot: 2"],
  ];
  return edits.reduce((text, [from, to]) => {
    if (!text.includes(from)) throw new Error(`brokenExample: "${from}" not in the example`);
    return text.replace(from, to);
  }, EXAMPLE);
}

/** `text` as a regular expression that matches it literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
