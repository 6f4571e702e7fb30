// Child-process entry: one evaluation per process, because Pulumi's runtime is process-global.
// Usage: tsx bench/child.ts program MANIFEST [--dump FILE] [--fast]
//        tsx bench/child.ts floor COUNT
//        tsx bench/child.ts typed TYPE_COUNTS_JSON
// Prints one JSON line (ChildReport) on stdout. --dump writes the recorded resources to FILE
// after the clock has stopped. --fast sets Error.stackTraceLimit = 0 (see run.ts): for
// evaluations that are compared but not timed.
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runOffline, type OfflineRun } from "../cli/offline";
import { clock, monotonicUs } from "./clock";

export interface ChildReport {
  /** From just before the entry module's import to the end of pulumi.runtime.disconnect(). */
  readonly ms: number;
  /** CPU time of the process (all threads, GC helpers included) over the same interval. */
  readonly cpuMs: number;
  /** Registrations recorded (every resource, components and providers included). */
  readonly resources: number;
  /** Peak resident set size of this process, in kB. */
  readonly maxRssKb: number;
  /** Loading the provider SDK packages before the clock starts (a fixed cost per run). */
  readonly sdkImportMs: number;
  /** The measured interval in monotonic µs, to cut a CPU profile of the process to it. */
  readonly windowUs: readonly [number, number];
}

/**
 * The provider packages load their resource classes lazily. Loading them before the clock
 * keeps a fixed per-process cost out of the per-tenant figures (it is reported on its own).
 */
async function preloadSdks(): Promise<number> {
  const started = performance.now();
  const [docker, command, random, cloudflare] = await Promise.all([
    import("@pulumi/docker"),
    import("@pulumi/command"),
    import("@pulumi/random"),
    import("@pulumi/cloudflare"),
  ]);
  const classes: unknown[] = [
    docker.Provider,
    docker.Network,
    docker.Volume,
    docker.Container,
    docker.RemoteImage,
    command.Provider,
    command.remote.Command,
    random.Provider,
    random.RandomPassword,
    random.RandomId,
    cloudflare.Provider,
    cloudflare.DnsRecord,
  ];
  if (classes.some((c) => typeof c !== "function")) throw new Error("a provider class is missing");
  return performance.now() - started;
}

function evaluate(mode: string | undefined, arg: string | undefined): Promise<OfflineRun> {
  const entry = (name: string) => path.join(__dirname, name);
  if (mode === "program" && arg !== undefined) {
    return runOffline({ tenantsFile: arg, program: entry("programEntry") });
  }
  if (mode === "floor" && arg !== undefined) process.env.BENCH_FLOOR_COUNT = arg;
  else if (mode === "typed" && arg !== undefined) process.env.BENCH_FLOOR_TYPES = arg;
  else throw new Error("usage: child.ts program MANIFEST | floor COUNT | typed JSON");
  return runOffline({ fillSecrets: false, program: entry("floorEntry") });
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { dump: { type: "string" }, fast: { type: "boolean" } },
  });
  const [mode, arg] = positionals;
  const sdkImportMs = await preloadSdks();
  if (values.fast) Error.stackTraceLimit = 0;
  const run = await evaluate(mode, arg);
  const ms = performance.now() - clock.start;
  const endUs = monotonicUs();
  const cpu = process.cpuUsage(clock.cpu);
  const report: ChildReport = {
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    resources: run.resources.length,
    maxRssKb: process.resourceUsage().maxRSS,
    sdkImportMs,
    windowUs: [clock.startUs, endUs],
  };
  if (values.dump !== undefined) writeFileSync(values.dump, JSON.stringify(run.resources));
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
