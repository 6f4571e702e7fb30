// `tenantry add`: onboards a customer by appending one entry to the manifest. It picks the host
// and the next slot, refuses (file untouched) when the result would not validate, and writes
// under a lock, atomically and only over the text it read, so neither an interrupted run nor
// several at once lose or corrupt an entry.
import { InvalidArgumentError, type Command } from "commander";
import { parseManifest } from "../../manifest/load";
import { hostRoom, nextSlot, pickHost } from "../../manifest/placement";
import {
  formatPath,
  formatProblem,
  ManifestError,
  type PathSegment,
} from "../../manifest/problems";
import type { Manifest } from "../../manifest/schema";
import { planTenant } from "../../plan/tenant";
import { appendTenant } from "../appendTenant";
import { describeDns, loadManifestFile, RefusedChange, requireManifestFile } from "../common";
import { replaceManifest, withManifestLock } from "../fileEdit";

interface AddOptions {
  readonly app: string;
  readonly plan: string;
  readonly domain: string;
  readonly host?: string;
  readonly alias: string[];
  readonly env: Record<string, string>;
  readonly file: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function collectEnv(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** A problem located at a key that already exists in the file (refusals before any edit). */
function refuse(
  loaded: ReturnType<typeof loadManifestFile>,
  path: string[],
  message: string,
): never {
  throw new ManifestError([{ file: loaded.file, ...loaded.locate(path, "key"), path, message }]);
}

/** The host the tenant goes to: as given, the only one, or the one with room for the plan. */
function chooseHost(loaded: ReturnType<typeof loadManifestFile>, options: AddOptions): string {
  const m = loaded.manifest;
  if (options.host !== undefined) return options.host; // the rules report an unknown host
  const need = m.plans[options.plan]?.memoryMb ?? 0; // the rules report an unknown plan
  const host = pickHost(m, need);
  if (host !== undefined) return host;
  const free = hostRoom(m).map((r) => `${r.host} ${r.freeMb} MB`);
  refuse(
    loaded,
    ["plans", options.plan],
    `no host has ${need} MB free for plan "${options.plan}" (free: ${free.join(", ")}); add a host, raise a host's memoryMb or pick a smaller plan`,
  );
}

/** The lines `after` has in place of nothing in `before`: one inserted block. */
function insertedLines(before: string, after: string): { end: number; count: number } {
  const a = before.split("\n");
  const b = after.split("\n");
  let first = 0;
  while (first < a.length && a[first] === b[first]) first++;
  const count = b.length - a.length;
  return { end: first + 1 + count, count };
}

/** The command-line words behind a key of the new entry, e.g. `--app mcodr`. */
function optionFor(
  path: readonly PathSegment[],
  name: string,
  options: AddOptions,
  entry: Readonly<Record<string, unknown>>,
): string {
  const [, , key, item] = path;
  switch (key) {
    case "app":
    case "plan":
    case "domain":
      return `--${key} ${options[key]}`;
    case "host":
      return options.host === undefined
        ? `host ${String(entry.host)} (picked)`
        : `--host ${options.host}`;
    case "slot":
      return `slot ${String(entry.slot)} (picked)`;
    case "aliases":
      return `--alias ${typeof item === "number" ? (options.alias[item] ?? "") : options.alias.join(",")}`;
    case "env":
      return item === undefined ? "--env" : `--env ${String(item)}=...`;
    default:
      return `tenant ${name}`;
  }
}

function report(m: Manifest, name: string, file: string, line: number): string {
  const plan = planTenant(m, name);
  const limits = m.plans[plan.plan]!;
  const usage = hostRoom(m).find((r) => r.host === plan.host)!;
  const ports = Object.entries(plan.ports).map(([svc, port]) => `${svc} → 127.0.0.1:${port}`);
  return [
    `Added tenant ${name} to ${file} (line ${line}).`,
    `  app ${plan.app}  plan ${plan.plan} (${limits.memoryMb} MB, ${limits.cpus} CPU)  host ${plan.host}  slot ${plan.slot}`,
    `  ports    ${ports.join(", ") || "(none published)"}`,
    ...plan.dns.map(
      (d, i) => `  ${i === 0 ? "domain " : "alias  "}  ${d.domain}  ${describeDns(d)}`,
    ),
    `  memory   host ${plan.host}: ${usage.allocatedMb}/${usage.budgetMb} MB allocated`,
    `Next: pulumi preview (only ${name}'s resources should appear), then pulumi up.`,
  ].join("\n");
}

export function registerAdd(program: Command): void {
  program
    .command("add")
    .description(
      "Onboard a customer: append a tenant to the manifest (comments kept), picking the host and the next slot (never a removed tenant's); refuses if the result would not validate",
    )
    .argument("<name>", "tenant name (a DNS label, e.g. acme)")
    .requiredOption("--app <app>", "app under `apps`")
    .requiredOption("--plan <plan>", "plan under `plans`")
    .requiredOption("--domain <domain>", "main domain, e.g. acme.example.com")
    .option("--host <host>", "host under `hosts` (default: the one with room for the plan)")
    .option("--alias <domain>", "another domain for the same site (repeatable)", collect, [])
    .option("--env <KEY=VALUE>", "environment for this tenant (repeatable)", collectEnv, {})
    .option("--file <file>", "manifest", "tenants.yaml")
    .action((name: string, options: AddOptions) => {
      // One add at a time; the slot is picked from the file as it is under the lock.
      requireManifestFile(options.file);
      withManifestLock(options.file, () => add(name, options));
    });
}

function add(name: string, options: AddOptions): void {
  const loaded = loadManifestFile(options.file); // an invalid manifest is refused as it is
  const m = loaded.manifest;
  if (Object.hasOwn(m.tenants, name)) {
    refuse(loaded, ["tenants", name], `tenant "${name}" already exists; pick another name`);
  }
  const host = chooseHost(loaded, options);
  const slot = m.hosts[host] === undefined ? 1 : nextSlot(m, host, m.apps[options.app]);
  if (slot === undefined) {
    refuse(loaded, ["hosts", host], `host "${host}" has no free slot left; pick another host`);
  }
  const entry: Record<string, unknown> = {
    app: options.app,
    plan: options.plan,
    host,
    slot,
    domain: options.domain,
  };
  if (options.alias.length > 0) entry.aliases = options.alias;
  if (Object.keys(options.env).length > 0) entry.env = options.env;

  const text = appendTenant(loaded.text, name, entry);
  const result = parseManifest(text, options.file);
  if (!result.ok) {
    // Nothing is written. Problems in the new entry name the option that put them there;
    // the others keep the line they have in the file as it is.
    const shift = insertedLines(loaded.text, text);
    throw new RefusedChange(
      result.problems.map((p) =>
        p.path[0] === "tenants" && p.path[1] === name
          ? `${optionFor(p.path, name, options, entry)} (${formatPath(p.path)}): ${p.message}`
          : formatProblem({ ...p, line: p.line >= shift.end ? p.line - shift.count : p.line }),
      ),
    );
  }
  replaceManifest(options.file, loaded.text, text);
  const line = result.loaded.locate(["tenants", name], "key").line;
  process.stdout.write(`${report(result.loaded.manifest, name, options.file, line)}\n`);
}
