// Pure: the benchmark's figures as the plain-text report `npm run bench` prints.
import type { BenchResults, Timing } from "./run";

/** Columns padded to their widest cell; numbers and figures right-aligned. */
export function table(
  headers: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) =>
    rows.every((r) => /^[-\d.,×≤%()/ sMBkms]*$/.test(r[i] ?? "")),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const fixed = (n: number, digits = 1) => n.toFixed(digits);
const mb = (kb: number) => `${int(kb / 1024)} MB`;
const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

function runs(t: Timing): string {
  return t.runsMs.length > 1
    ? `${int(t.medianMs)} (${t.runsMs.map(int).join("/")})`
    : int(t.medianMs);
}

function evaluationSection(r: BenchResults): string[] {
  const rows = r.sizes.map((s) => [
    int(s.tenants),
    String(s.hosts),
    int(s.resources),
    runs(s.program),
    fixed(s.programMsPerTenant),
    mb(s.program.maxRssKb),
    runs(s.floor),
    fixed(s.floorMsPerTenant),
    mb(s.floor.maxRssKb),
    `${fixed(s.ratio, 2)}`,
    s.typedFloor ? int(s.typedFloor.medianMs) : "-",
    s.typedRatio === undefined ? "-" : fixed(s.typedRatio, 2),
  ]);
  const growth = r.sizes
    .slice(1)
    .map((s, i) => {
      const prev = r.sizes[i]!;
      return `${int(prev.tenants)}→${int(s.tenants)} ×${fixed(s.programMsPerTenant / prev.programMsPerTenant, 2)}`;
    })
    .join(", ");
  const largest = r.sizes.at(-1)!;
  const reps = [...new Set(r.sizes.map((s) => `${s.program.runsMs.length} at ${int(s.tenants)}`))];
  const once = r.sizes.filter((s) => s.program.runsMs.length === 1);
  return [
    `1. Evaluation under mocks, wall ms (median of runs: ${reps.join(", ")}; each run listed in brackets)`,
    ...once.map(
      (s) =>
        `   one run at ${int(s.tenants)} tenants: one evaluation there takes ${int(s.program.medianMs / 1000)} s (--reps N for more)`,
    ),
    ...table(
      [
        "tenants",
        "hosts",
        "resources",
        "program ms",
        "ms/tenant",
        "peak RSS",
        "plain floor ms",
        "ms/tenant",
        "peak RSS",
        "program/floor",
        "typed floor ms",
        "program/typed",
      ],
      rows,
    ),
    `   time per tenant grows ${growth} (×1.00 = linear growth)`,
    `   target program/floor ≤ 1.5 at ${int(largest.tenants)} tenants: ${verdict(largest.ratio <= 1.5)} (${fixed(largest.ratio, 2)});` +
      ` peak RSS of the program at ${int(largest.tenants)} tenants: ${mb(largest.program.maxRssKb)}`,
    `   provider SDK packages are loaded before the clock starts in every child: ${int(r.sdkImportMs)} ms per process, not in the figures`,
  ];
}

function perTenantSection(r: BenchResults): string[] {
  const rows = r.perTenant.map((t) => [
    t.label,
    t.tenant,
    String(t.withComponent),
    String(t.customOnly),
    t.target === undefined ? "-" : `≤ ${t.target} ${verdict(t.withComponent <= t.target)}`,
    Object.entries(t.byType)
      .map(([type, n]) => `${n} ${type}`)
      .join(", "),
  ]);
  return [
    "2. Resources per tenant (the TenantInstance and everything parented under it)",
    ...table(
      ["tenant kind", "tenant", "with component", "custom only", "target", "custom resources"],
      rows,
    ),
  ];
}

function blastSection(r: BenchResults): string[] {
  const onboarding = r.changes.filter((c) => c.change.startsWith("onboard"));
  const rows = onboarding.map((c) => [
    int(c.tenants),
    int(c.blast.tenantCompared),
    String(c.blast.tenantChanged.length + c.blast.tenantRemoved.length),
    `${c.blast.tenantChanged.length + c.blast.tenantRemoved.length === 0 ? "met" : "MISSED"}`,
    int(c.blast.hostCompared),
    String(c.blast.hostChanged.length),
    c.blast.hostChanged.join("; ") || "-",
    String(c.blast.added),
  ]);
  const offenders = onboarding.flatMap((c) => [...c.blast.tenantChanged, ...c.blast.tenantRemoved]);
  return [
    "3. Blast radius of onboarding: N tenants, then N+1 with the new tenant first in the tenants map",
    ...table(
      [
        "tenants N",
        "existing-tenant resources",
        "changed",
        "target 0",
        "host-level resources",
        "host-level changed",
        "which, and what differs",
        "added",
      ],
      rows,
    ),
    ...(offenders.length > 0
      ? [`   changed existing-tenant resources: ${offenders.slice(0, 10).join("; ")}`]
      : []),
  ];
}

function changesSection(r: BenchResults): string[] {
  const rows = r.changes.map((c) => [
    c.change,
    int(c.tenants),
    c.effects.commandsRun.join(", ") || "-",
    String(c.effects.sshSessions),
    String(c.effects.dockerChanges),
    String(c.effects.reloadSteps.length),
    String(c.effects.siteFlags.length),
    String(c.effects.siteDeletes.length),
    String(c.effects.nginxReloads),
  ]);
  return [
    "4. What one tenant's change runs on the hosts (remote commands, Docker, nginx)",
    ...table(
      [
        "change",
        "tenants",
        "remote commands that run",
        "SSH sessions",
        "docker changes",
        "reload steps",
        "site flags",
        "site deletes",
        "nginx reloads",
      ],
      rows,
    ),
    "   SSH sessions: remote commands (command:remote:Command) whose inputs change or that are added",
    "   or removed: 1 per create that runs (a changed command without `update` runs create again),",
    "   +1 when a replacement (triggers/connection changed) or removal runs a delete script.",
    "   docker changes: Docker resources added, changed or removed; each goes over the Docker",
    "   provider's own ssh:// connection, not counted as SSH sessions above.",
    "   nginx reloads: a `<host>-nginx-reload` step runs when its triggers (the digest of the host's",
    "   sites) change and reloads once if a site install on that host flagged a change; site installs",
    "   only flag; a site delete script reloads by itself; a bootstrap reloads only if the include changed.",
  ];
}

function profileSection(r: BenchResults): string[] {
  const p = r.profile;
  if (p === undefined) return [];
  return [
    `5. CPU profile of the ${int(p.tenants)}-tenant evaluation (node --cpu-prof; ${int(p.evaluationMs)} ms, ${int(p.totalMs)} ms sampled)`,
    ...table(
      ["area (self time)", "ms", "share"],
      p.areas.map((a) => [a.name, int(a.ms), pct(a.share)]),
    ),
    "",
    ...table(
      ["program step (inclusive)", "ms", "share"],
      p.steps.map((s) => [s.name, int(s.ms), pct(s.share)]),
    ),
    "",
    ...table(
      ["function (self time)", "ms", "share"],
      p.topFunctions.map((f) => [f.name, int(f.ms), pct(f.share)]),
    ),
  ];
}

export function renderReport(r: BenchResults): string {
  const load = (xs: readonly number[]) => xs.map((x) => x.toFixed(2)).join(" ");
  return (
    [
      `tenantry bench ${r.startedAt}: node ${r.machine.node}, ${r.machine.cpus} CPUs, load average ${load(r.machine.loadAverageStart)} at start, ${load(r.machine.loadAverageEnd)} at end; ${int(r.totalSeconds)} s`,
      "Every evaluation runs in its own process (fresh Pulumi runtime) under the mocks of cli/offline.ts, on",
      "generated manifests (bench/generate.ts): mcoder and frontbase tenants alternating, about 25 per host.",
      "",
      ...evaluationSection(r),
      "   plain floor: as many bare pulumi.CustomResource registrations as the program made, under the same",
      "   mocks and recorder. typed floor: the program's own resource classes in the same numbers, minimal",
      "   inputs, no parents, built as the program builds (Error.stackTraceLimit at 0, components/",
      "   promiseStacks.ts); measured once per size: what the SDK costs for these resource types.",
      "",
      ...perTenantSection(r),
      "",
      ...blastSection(r),
      "",
      ...changesSection(r),
      "   Sections 3 and 4 compare the first timed run at each size with an untimed evaluation of the",
      "   edited manifest run with Error.stackTraceLimit = 0 (about 3× faster; it changes no recorded",
      "   registration, which the 0 changed existing-tenant resources above also confirm).",
      ...(r.profile ? ["", ...profileSection(r)] : []),
    ].join("\n") + "\n"
  );
}
