// The benchmark's manifest generator: what it writes must be a valid manifest of the size and
// spread asked for, or the benchmark measures the wrong thing. No timing here.
import { describe, expect, it } from "vitest";
import { generateManifest, hostCount, NEW_TENANT, type ManifestChange } from "../../bench/generate";
import { parseManifest } from "../../manifest/load";
import { formatProblem } from "../../manifest/problems";
import type { Manifest } from "../../manifest/schema";

function parse(text: string): Manifest {
  const result = parseManifest(text, "generated.yaml");
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.loaded.manifest;
}

const perHost = (m: Manifest) =>
  Object.keys(m.hosts).map((h) => Object.values(m.tenants).filter((t) => t.host === h).length);

describe.each([2, 10, 100, 1000])("a generated manifest of %i tenants", (n) => {
  const generated = generateManifest({ tenants: n });
  const manifest = parse(generated.text);

  it("validates and has exactly the tenants it lists", () => {
    expect(Object.keys(manifest.tenants)).toHaveLength(n);
    expect(Object.keys(manifest.tenants)).toEqual(generated.tenants.map((t) => t.name));
  });

  it("spreads the tenants evenly over max(2, ⌈n/25⌉) hosts", () => {
    const hosts = hostCount(n);
    expect(hosts).toBe(Math.max(2, Math.ceil(n / 25)));
    expect(Object.keys(manifest.hosts)).toHaveLength(hosts);
    const counts = perHost(manifest);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(n);
    expect(
      Object.fromEntries(Object.entries(generated.hosts).map(([h, ts]) => [h, ts.length])),
    ).toEqual(Object.fromEntries(Object.keys(manifest.hosts).map((h, i) => [h, counts[i]])));
  });

  it("runs the single-service and the multi-service app side by side", () => {
    const apps = Object.values(manifest.tenants).map((t) => t.app);
    expect(new Set(apps)).toEqual(new Set(n >= 10 ? ["mcoder", "frontbase"] : ["mcoder"]));
    expect(Object.keys(manifest.apps.frontbase!.services)).toEqual([
      "backend",
      "frontend",
      "redis",
    ]);
  });
});

describe.each<[string, ManifestChange]>([
  ["onboard", { kind: "onboard" }],
  ["env", { kind: "env", tenant: "tenant-0004" }],
  ["plan", { kind: "plan", tenant: "tenant-0001" }],
])("the %s change on 100 tenants", (_name, change) => {
  const base = parse(generateManifest({ tenants: 100 }).text);
  const changed = parse(generateManifest({ tenants: 100, change }).text);

  it("still validates and touches only the tenant it names, not the hosts", () => {
    expect(changed.hosts).toEqual(base.hosts);
    const names = Object.keys(changed.tenants);
    if (change.kind === "onboard") {
      expect(names).toEqual([NEW_TENANT, ...Object.keys(base.tenants)]);
    } else {
      expect(names).toEqual(Object.keys(base.tenants));
    }
    const differing = names.filter(
      (t) => JSON.stringify(changed.tenants[t]) !== JSON.stringify(base.tenants[t]),
    );
    expect(differing).toEqual([change.kind === "onboard" ? NEW_TENANT : change.tenant]);
  });
});
