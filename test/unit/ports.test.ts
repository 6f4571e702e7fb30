// A tenant's host ports belong to its services (portOffset), not to their places in the app:
// editing the app's list of services moves no running tenant's port.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifest } from "../../manifest/load";
import { formatProblem } from "../../manifest/problems";
import { planTenant } from "../../plan/tenant";

const example = readFileSync(path.resolve(__dirname, "../../tenants.yaml"), "utf8");

function portsOf(text: string, tenant: string): Record<string, number> {
  const result = parseManifest(text, "tenants.yaml");
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return { ...planTenant(result.loaded.manifest, tenant).ports };
}

/** The example without one of frontbase's services (its lines up to the next service). */
function withoutService(text: string, service: string): string {
  const lines = text.split("\n");
  const start = lines.indexOf(`      ${service}:`);
  if (start < 0) throw new Error(`no service ${service}`);
  let end = start + 1;
  while (end < lines.length && /^ {8}|^\s*$/.test(lines[end]!) && lines[end] !== "") end++;
  return [...lines.slice(0, start), ...lines.slice(end)].join("\n");
}

describe("host ports of a multi-service app (the example's frontbase, tenant1)", () => {
  const before = portsOf(example, "tenant1");

  it("are portBase + slot*10 + each service's portOffset", () => {
    // slot 3, portBase 10000: backend has offset 0, frontend 2 (their places before offsets)
    expect(before).toEqual({ backend: 10030, frontend: 10032 });
  });

  it.each(["edge", "redis", "backend"])("stay where they are when %s is removed", (service) => {
    const edited = withoutService(example, service);
    expect(edited).not.toContain(`      ${service}:`);
    const after = portsOf(edited, "tenant1");
    const kept = Object.fromEntries(Object.entries(before).filter(([svc]) => svc !== service));
    expect(after).toEqual(kept);
  });

  it("stay where they are when the services are listed in another order", () => {
    const start = example.indexOf("      backend:\n");
    const end = example.indexOf("      edge:\n");
    const backend = example.slice(start, end);
    const reordered =
      example.slice(0, start) +
      example.slice(end).replace("      redis:\n", `${backend}      redis:\n`);
    expect(reordered.indexOf("      backend:")).toBeGreaterThan(
      reordered.indexOf("      frontend:"),
    );
    expect(portsOf(reordered, "tenant1")).toEqual(before);
  });
});
