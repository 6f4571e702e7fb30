// `npm run bench`: what onboarding costs at 10, 100 and 1,000 tenants. Evaluates the program
// under mocks on generated manifests, each evaluation in its own process, beside SDK floors
// measured in the same run; then compares evaluations to count resources per tenant, the blast
// radius of onboarding and what one tenant's change runs over SSH. Progress on stderr, the
// table on stdout, the same figures in bench/results/latest.json.
// Options: --sizes 10,100,1000  --reps N (default 3, 1 at 1,000+)  --profile (CPU profile of
// the largest evaluation, summarised).
import { execFile } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs, promisify } from "node:util";
import type { RecordedResource } from "../cli/offline";
import {
  applyEffects,
  blastRadius,
  countTenant,
  diffRuns,
  type ApplyEffects,
  type BlastRadius,
  type TenantCount,
} from "./analyze";
import type { ChildReport } from "./child";
import { generateManifest, hostCount, NEW_TENANT, type ManifestChange } from "./generate";
import { summarizeProfile, type CpuProfile, type ProfileSummary } from "./profile";
import { renderReport } from "./report";

const execFileAsync = promisify(execFile);
const root = path.resolve(__dirname, "..");
const child = path.join(__dirname, "child.ts");
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

export interface Timing {
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  readonly medianCpuMs: number;
  readonly maxRssKb: number;
}

export interface SizeResult {
  readonly tenants: number;
  readonly hosts: number;
  readonly resources: number;
  readonly program: Timing;
  /** Plain CustomResources, as many as the program registered. */
  readonly floor: Timing;
  /** The program's resource classes and counts, minimal inputs; absent where not measured. */
  readonly typedFloor?: Timing;
  readonly ratio: number;
  readonly typedRatio?: number;
  readonly programMsPerTenant: number;
  readonly floorMsPerTenant: number;
}

export interface ChangeResult {
  readonly change: string;
  readonly tenants: number;
  readonly blast: BlastRadius;
  readonly effects: ApplyEffects;
}

export interface BenchResults {
  readonly startedAt: string;
  readonly machine: {
    readonly node: string;
    readonly cpus: number;
    readonly loadAverageStart: readonly number[];
    readonly loadAverageEnd: readonly number[];
  };
  readonly totalSeconds: number;
  readonly sdkImportMs: number;
  readonly sizes: readonly SizeResult[];
  readonly perTenant: ReadonlyArray<TenantCount & { label: string; target?: number }>;
  readonly changes: readonly ChangeResult[];
  readonly profile?: ProfileSummary & { tenants: number; evaluationMs: number };
}

async function runChild(args: string[], nodeFlags: string[] = []): Promise<ChildReport> {
  const loader = nodeFlags.length > 0 ? ["--import", "tsx"] : [require.resolve("tsx/cli")];
  const { stdout } = await execFileAsync(
    process.execPath,
    [...nodeFlags, ...loader, child, ...args],
    {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as ChildReport;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function timing(reports: readonly ChildReport[]): Timing {
  return {
    runsMs: reports.map((r) => Math.round(r.ms)),
    medianMs: median(reports.map((r) => r.ms)),
    medianCpuMs: median(reports.map((r) => r.cpuMs)),
    maxRssKb: Math.max(...reports.map((r) => r.maxRssKb)),
  };
}

const readRun = (file: string) => JSON.parse(readFileSync(file, "utf8")) as RecordedResource[];

/** Runs tasks at most `limit` at a time (the untimed evaluations use both cores). */
async function pool<T>(tasks: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

interface Options {
  readonly sizes: readonly number[];
  readonly reps?: number;
  readonly profile: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "10,100,1000" },
      reps: { type: "string" },
      profile: { type: "boolean", default: false },
    },
  });
  const sizes = values.sizes.split(",").map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 2))
    throw new Error("--sizes: whole numbers ≥ 2");
  return {
    sizes,
    reps: values.reps === undefined ? undefined : Number(values.reps),
    profile: values.profile,
  };
}

interface MeasuredSize extends SizeResult {
  /** Recorded resources of the first program run (JSON file). */
  readonly dump: string;
  readonly sdkImportMs: number;
}

/** Times the program and the floors at one size; returns the figures and the first run's dump. */
async function measureSize(n: number, opts: Options, dir: string): Promise<MeasuredSize> {
  const manifest = path.join(dir, `tenants-${n}.yaml`);
  const dump = path.join(dir, `run-${n}.json`);
  const reps = opts.reps ?? (n >= 1000 ? 1 : 3);
  const program: ChildReport[] = [];
  const floor: ChildReport[] = [];
  const typed: ChildReport[] = [];
  let typeCounts = "";
  for (let rep = 0; rep < reps; rep++) {
    log(`${n} tenants: program run ${rep + 1}/${reps}`);
    program.push(await runChild(["program", manifest, ...(rep === 0 ? ["--dump", dump] : [])]));
    if (rep === 0) {
      const counts: Record<string, number> = {};
      for (const r of readRun(dump)) counts[r.type] = (counts[r.type] ?? 0) + 1;
      typeCounts = JSON.stringify(counts);
    }
    log(`${n} tenants: floor run ${rep + 1}/${reps} (${program[0]!.resources} plain resources)`);
    floor.push(await runChild(["floor", String(program[0]!.resources)]));
    // Once per size: it costs about as much as the program.
    if (rep === 0) {
      log(`${n} tenants: typed floor run`);
      typed.push(await runChild(["typed", typeCounts]));
    }
  }
  const p = timing(program);
  const f = timing(floor);
  const t = typed.length > 0 ? timing(typed) : undefined;
  return {
    tenants: n,
    hosts: hostCount(n),
    resources: program[0]!.resources,
    program: p,
    floor: f,
    ...(t ? { typedFloor: t, typedRatio: p.medianMs / t.medianMs } : {}),
    ratio: p.medianMs / f.medianMs,
    programMsPerTenant: p.medianMs / n,
    floorMsPerTenant: f.medianMs / n,
    dump,
    sdkImportMs: median(program.map((r) => r.sdkImportMs)),
  };
}

interface ChangeRun {
  readonly label: string;
  readonly tenants: number;
  readonly base: string;
  readonly change: ManifestChange;
}

/** One tenant's edit per scenario, evaluated untimed (--fast) and compared with the base run. */
async function measureChanges(runs: readonly ChangeRun[], dir: string): Promise<ChangeResult[]> {
  const tasks = runs.map((run, i) => async () => {
    const file = path.join(dir, `change-${i}.yaml`);
    const dump = path.join(dir, `change-${i}.json`);
    writeFileSync(file, generateManifest({ tenants: run.tenants, change: run.change }).text);
    log(`${run.tenants} tenants: evaluating "${run.label}"`);
    await runChild(["program", file, "--dump", dump, "--fast"]);
    const before = readRun(run.base);
    const after = readRun(dump);
    return {
      change: run.label,
      tenants: run.tenants,
      blast: blastRadius(before, after),
      effects: applyEffects(diffRuns(before, after)),
    };
  });
  return pool(tasks, 2);
}

async function profileRun(n: number, dir: string): Promise<BenchResults["profile"]> {
  const profDir = path.join(dir, "profile");
  log(`${n} tenants: profiled evaluation (node --cpu-prof)`);
  const report = await runChild(
    ["program", path.join(dir, `tenants-${n}.yaml`)],
    ["--cpu-prof", `--cpu-prof-dir=${profDir}`],
  );
  // The main thread's profile is the largest; tsx's loader thread writes a small one.
  const [main] = readdirSync(profDir)
    .map((f) => path.join(profDir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  const profile = JSON.parse(readFileSync(main!, "utf8")) as CpuProfile;
  return { tenants: n, evaluationMs: report.ms, ...summarizeProfile(profile, report.windowUs) };
}

async function main(): Promise<void> {
  const opts = options();
  const started = Date.now();
  const loadAverageStart = os.loadavg();
  const dir = mkdtempSync(path.join(os.tmpdir(), "tenantry-bench-"));
  try {
    for (const n of opts.sizes) {
      writeFileSync(path.join(dir, `tenants-${n}.yaml`), generateManifest({ tenants: n }).text);
    }
    log("warm-up run (tsx compile cache), not counted");
    await runChild(["program", path.join(dir, `tenants-${opts.sizes[0]}.yaml`)]);

    const sizes: MeasuredSize[] = [];
    for (const n of opts.sizes) sizes.push(await measureSize(n, opts, dir));

    const smallest = sizes[0]!;
    const middle = sizes.find((s) => s.tenants >= 100) ?? sizes.at(-1)!;
    const generated = generateManifest({ tenants: middle.tenants }).tenants;
    const single = generated.find((t) => t.app === "mcoder")!.name;
    const multi = generated.find((t) => t.app === "frontbase")!.name;
    const changes = await measureChanges(
      [
        ...sizes.map((s) => ({
          label: `onboard "${NEW_TENANT}" at the top`,
          tenants: s.tenants,
          base: s.dump,
          change: { kind: "onboard" } as const,
        })),
        {
          label: `env of ${multi} (multi-service)`,
          tenants: middle.tenants,
          base: middle.dump,
          change: { kind: "env", tenant: multi },
        },
        {
          label: `plan of ${single} (single-service)`,
          tenants: middle.tenants,
          base: middle.dump,
          change: { kind: "plan", tenant: single },
        },
      ],
      dir,
    );

    log("example tenants.yaml: evaluating for its 4-service frontbase");
    const exampleDump = path.join(dir, "example.json");
    await runChild(["program", path.join(root, "tenants.yaml"), "--dump", exampleDump, "--fast"]);
    const smallRun = readRun(smallest.dump);
    const smallTenants = generateManifest({ tenants: smallest.tenants }).tenants;
    const perTenant = [
      {
        label: "single-service (mcoder: web)",
        target: 8,
        ...countTenant(smallRun, smallTenants.find((t) => t.app === "mcoder")!.name),
      },
      {
        label: "multi-service (frontbase: backend, frontend, redis)",
        target: 12,
        ...countTenant(smallRun, smallTenants.find((t) => t.app === "frontbase")!.name),
      },
      {
        label: "example tenants.yaml frontbase (4 services)",
        ...countTenant(readRun(exampleDump), "tenant1"),
      },
    ];

    const largest = opts.sizes.at(-1)!;
    const profile = opts.profile ? await profileRun(largest, dir) : undefined;

    const results: BenchResults = {
      startedAt: new Date(started).toISOString(),
      machine: {
        node: process.version,
        cpus: os.cpus().length,
        loadAverageStart,
        loadAverageEnd: os.loadavg(),
      },
      totalSeconds: (Date.now() - started) / 1000,
      sdkImportMs: median(sizes.map((s) => s.sdkImportMs)),
      sizes: sizes.map(({ dump: _dump, sdkImportMs: _sdk, ...s }) => s),
      perTenant,
      changes,
      ...(profile ? { profile } : {}),
    };
    const outDir = path.join(__dirname, "results");
    mkdirSync(outDir, { recursive: true });
    const out = path.join(outDir, "latest.json");
    writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
    process.stdout.write(renderReport(results));
    log(`wrote ${path.relative(root, out)} (${results.totalSeconds.toFixed(0)} s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
