// Pure: reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per
// function, self time per area (the program's own modules vs the Pulumi SDK vs libraries), and
// inclusive time of the program's main steps.

/** The parts of a V8 CPU profile this module reads. */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
    readonly children?: readonly number[];
  }>;
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface TimeShare {
  readonly name: string;
  readonly ms: number;
  /** Share of all sampled time, 0..1. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  /** Functions by self time, largest first. */
  readonly topFunctions: readonly TimeShare[];
  /** Self time per area (see `area`), largest first. */
  readonly areas: readonly TimeShare[];
  /** Time spent inside each step (callees included); steps may nest. */
  readonly steps: readonly TimeShare[];
}

/** The program's steps, by the function that runs each (inclusive time). */
export const STEPS: ReadonlyArray<{ readonly name: string; readonly functionName: string }> = [
  { name: "parse + validate manifest (loadManifest)", functionName: "loadManifest" },
  { name: "  YAML parse (parseDocument)", functionName: "parseDocument" },
  { name: "  schema (zod safeParse)", functionName: "safeParse" },
  { name: "  cross-entry rules (checkRules)", functionName: "checkRules" },
  { name: "plan tenants (planTenants)", functionName: "planTenants" },
  { name: "  nginx site rendering (renderSite)", functionName: "renderSite" },
  { name: "host components (TenantHost)", functionName: "TenantHost" },
  { name: "tenant components (TenantInstance)", functionName: "TenantInstance" },
  { name: "SDK: resource registration (registerResource)", functionName: "registerResource" },
  { name: "SDK: input serialization (serializeProperties)", functionName: "serializeProperties" },
  {
    name: "SDK: debug promises, one stack each (debuggablePromise)",
    functionName: "debuggablePromise",
  },
  { name: "SDK: source positions (Resource.callsites)", functionName: "callsites" },
  {
    name: "stack traces mapped through source maps (prepareStackTraceWithSourceMaps)",
    functionName: "prepareStackTraceWithSourceMaps",
  },
  { name: "benchmark recorder (deserializeProperties)", functionName: "deserializeProperties" },
  { name: "garbage collection", functionName: "(garbage collector)" },
];

/** Which part of the code a frame belongs to, from its script URL. */
export function area(url: string, functionName: string): string {
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(program)" || functionName === "(idle)") return "V8/idle";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) {
    const name = pkg[1]!;
    if (name === "@pulumi/pulumi") {
      if (url.includes("/runtime/")) return "Pulumi SDK runtime";
      if (url.includes("/output.")) return "Pulumi SDK outputs";
      return "Pulumi SDK (other)";
    }
    if (name.startsWith("@grpc/") || name === "google-protobuf") return "gRPC/protobuf";
    return `lib ${name}`;
  }
  const own =
    /\/(components|core|manifest|plan|remote|runtime|cli|bench)\/(.+?)\.ts/.exec(url) ??
    /\/(index)\.ts/.exec(url);
  if (own) return own[2] === undefined ? "program index.ts" : `program ${own[1]}/${own[2]}.ts`;
  if (url.startsWith("node:") || url === "") return "node internals";
  return "other";
}

/** `@pulumi/pulumi/runtime/rpc.js`, `components/plan.ts`, `node:internal/...`. */
function shortUrl(url: string): string {
  const lib = url.lastIndexOf("node_modules/");
  if (lib >= 0) return url.slice(lib + "node_modules/".length);
  const own =
    /\/((?:components|core|manifest|plan|remote|runtime|cli|bench|test)\/.+|index\.ts)$/.exec(url);
  return own ? own[1]! : url;
}

function share(name: string, us: number, totalUs: number): TimeShare {
  return { name, ms: us / 1000, share: totalUs === 0 ? 0 : us / totalUs };
}

function ranked(totals: Map<string, number>, totalUs: number, limit: number): TimeShare[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => share(name, us, totalUs));
}

const add = (totals: Map<string, number>, key: string, us: number) =>
  totals.set(key, (totals.get(key) ?? 0) + us);

/**
 * Summarises the samples taken within `window` (monotonic µs, the profile's own clock), or all
 * of them.
 */
export function summarizeProfile(
  profile: CpuProfile,
  window?: readonly [number, number],
  top = 15,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);

  // Steps each node is inside of, memoised along the parent chain.
  const stepsOf = new Map<number, ReadonlySet<string>>();
  const stepSet = (id: number): ReadonlySet<string> => {
    const known = stepsOf.get(id);
    if (known) return known;
    const parent = parentOf.get(id);
    const out = new Set(parent === undefined ? [] : stepSet(parent));
    const fn = byId.get(id)!.callFrame.functionName;
    for (const step of STEPS) if (fn === step.functionName) out.add(step.name);
    stepsOf.set(id, out);
    return out;
  };

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const steps = new Map<string, number>();
  let totalUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (window && (at < window[0] || at > window[1])) return;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    totalUs += us;
    const file = shortUrl(frame.url);
    add(self, `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`, us);
    add(areas, area(frame.url, frame.functionName), us);
    for (const step of stepSet(id)) add(steps, step, us);
  });
  return {
    totalMs: totalUs / 1000,
    topFunctions: ranked(self, totalUs, top),
    areas: ranked(areas, totalUs, top),
    steps: STEPS.filter((s) => steps.has(s.name)).map((s) =>
      share(s.name, steps.get(s.name)!, totalUs),
    ),
  };
}
