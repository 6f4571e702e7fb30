// `tenantry add` run as a user runs it: the entry lands in tenants.yaml with every existing byte
// kept, in the slot after the highest one used or retired, on the right host; refusals leave the
// file byte-identical.
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../manifest/schema";
import {
  EXAMPLE,
  expectedPorts,
  filesIn,
  isManaged,
  manifestOf,
  positionOf,
  problemLines,
  read,
  slotAfterHighest,
  splitInsertion,
  tenantry,
  useScratch,
  withoutTenant,
  withSecondHost,
  escapeRegExp as escape,
} from "./run";

const scratch = useScratch();
const example = manifestOf(EXAMPLE);

function allocatedMb(m: Manifest, host: string): number {
  return Object.values(m.tenants)
    .filter((t) => t.host === host)
    .reduce((sum, t) => sum + m.plans[t.plan]!.memoryMb, 0);
}

function budgetMb(m: Manifest, host: string): number {
  return m.hosts[host]!.memoryMb - m.hosts[host]!.reserveMb;
}

function freeMb(m: Manifest, host: string): number {
  return budgetMb(m, host) - allocatedMb(m, host);
}

/** The `ports` line of add's report, computed from the manifest the tenant now is in. */
function portsLine(m: Manifest, tenant: string): string {
  return `ports    ${expectedPorts(m, tenant)
    .map(([svc, port]) => `${svc} → 127.0.0.1:${port}`)
    .join(", ")}`;
}

/** Checks `after` is `before` plus one inserted block and returns that block, parsed. */
function addedEntry(before: string, after: string): unknown {
  const { kept, inserted, line } = splitInsertion(before, after);
  expect(kept).toEqual(before.split("\n"));
  expect(line).toBeGreaterThan(positionOf(before, "\ntenants:\n", "tenants:").line);
  return parse(inserted.join("\n"));
}

describe.concurrent("tenantry add", () => {
  it("appends the tenant with every existing byte kept, reports it and the next step, and the file validates", async () => {
    const dir = scratch("add", { "tenants.yaml": EXAMPLE });
    const slot = slotAfterHighest(example, "vps1");
    const result = await tenantry(
      dir,
      ...["add", "acme", "--app", "mcoder", "--plan", "small", "--domain", "acme.example.com"],
      ...["--alias", "www.acme-shop.co"],
      ...["--env", "COMPANY_NAME=Acme", "--env", "GREETING=Hello = world", "--env", "VERSION=1.10"],
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    const after = read(dir);
    expect(addedEntry(EXAMPLE, after)).toEqual({
      acme: {
        app: "mcoder",
        plan: "small",
        host: "vps1",
        slot,
        domain: "acme.example.com",
        aliases: ["www.acme-shop.co"],
        // VERSION stays the text 1.10, not the number 1.1
        env: { COMPANY_NAME: "Acme", GREETING: "Hello = world", VERSION: "1.10" },
      },
    });
    expect(filesIn(dir)).toEqual(["tenants.yaml"]); // no temp file left behind

    const m = manifestOf(after);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(
      `Added tenant acme to tenants.yaml (line ${positionOf(after, "\n  acme:", "acme:").line}).`,
    );
    expect(result.stdout).toContain(`host vps1  slot ${slot}`);
    expect(result.stdout).toContain(portsLine(m, "acme"));
    expect(isManaged(m, "acme.example.com")).toBe(true);
    expect(result.stdout).toMatch(/ acme\.example\.com {2}DNS managed: /);
    expect(isManaged(m, "www.acme-shop.co")).toBe(false);
    expect(result.stdout).toMatch(/ www\.acme-shop\.co {2}DNS external: /);
    expect(lines[lines.length - 1]).toMatch(/^Next: pulumi preview\b/);

    const check = await tenantry(dir, "validate");
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^tenants\.yaml: valid, 4 tenants on 1 host, /);
  });

  it("never reuses the slot of a removed tenant, whose volumes may still be on the host: a gap stays a gap", async () => {
    const before = withoutTenant(EXAMPLE, "company2");
    const m = manifestOf(before);
    const gap = example.tenants.company2!.slot;
    const highest = Math.max(...Object.values(m.tenants).map((t) => t.slot));
    expect(highest).toBeGreaterThan(gap); // company2 left a gap below the highest slot
    const dir = scratch("gap", { "tenants.yaml": before });
    const result = await tenantry(
      dir,
      ...["add", "acme", "--app", "mcoder", "--plan", "small", "--domain", "acme.example.com"],
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const after = read(dir);
    expect(addedEntry(before, after)).toMatchObject({ acme: { host: "vps1", slot: highest + 1 } });
    expect(result.stdout).toContain(`slot ${highest + 1}`);
    expect(result.stdout).toContain(portsLine(manifestOf(after), "acme"));
  });

  // The highest tenant removed: only the manifest's note of it keeps its slot from coming back.
  const retiredTop = withoutTenant(EXAMPLE, "tenant1").replace(
    "    memoryMb: 2048 #",
    `    retired: { tenant1: ${example.tenants.tenant1!.slot} }\n    memoryMb: 2048 #`,
  );
  it("keeps clear of a slot under hosts.<name>.retired, even when it is the highest", async () => {
    const m = manifestOf(retiredTop);
    const retired = example.tenants.tenant1!.slot;
    expect(Math.max(...Object.values(m.tenants).map((t) => t.slot))).toBeLessThan(retired);
    const dir = scratch("retired", { "tenants.yaml": retiredTop });
    const result = await tenantry(
      dir,
      ...["add", "acme", "--app", "mcoder", "--plan", "small", "--domain", "acme.example.com"],
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(addedEntry(retiredTop, read(dir))).toMatchObject({ acme: { slot: retired + 1 } });
  });

  it("refuses a retired tenant's name on its host: the new tenant would take over the old volumes", async () => {
    const dir = scratch("retired-name", { "tenants.yaml": retiredTop });
    const result = await tenantry(
      dir,
      ...["add", "tenant1", "--app", "mcoder", "--plan", "small", "--domain", "t1.example.com"],
    );
    expect(result.code).toBe(1);
    expect(problemLines(result.stderr)).toEqual({
      problems: [
        expect.stringMatching(
          /^tenant tenant1 \(tenants\.tenant1\): a tenant "tenant1" was removed from host "vps1" and its volumes may still be there \(hosts\.vps1\.retired\)/,
        ),
      ],
      summary: "1 problem; nothing was changed.",
    });
    expect(read(dir)).toBe(retiredTop);
  });

  const taken = positionOf(EXAMPLE, "\n  company2:", "company2:");
  const memory = positionOf(EXAMPLE, "\n  vps1:", "memoryMb: ", "2048");
  const team = example.plans.team!.memoryMb; // more than vps1 has free
  it.each([
    {
      refusal: "an unknown app, with did-you-mean",
      args: ["acme", "--app", "mcodr", "--plan", "small", "--domain", "acme.example.com"],
      option: "--app mcodr",
      problem: 'tenants.acme.app: unknown app "mcodr" (did you mean "mcoder"?)',
    },
    {
      refusal: "an unknown plan, with did-you-mean",
      args: ["acme", "--app", "mcoder", "--plan", "smal", "--domain", "acme.example.com"],
      option: "--plan smal",
      problem: 'tenants.acme.plan: unknown plan "smal" (did you mean "small"?)',
    },
    {
      refusal: "an existing tenant name",
      args: ["company2", "--app", "mcoder", "--plan", "small", "--domain", "acme.example.com"],
      at: taken,
      problem: 'tenants.company2: tenant "company2" already exists',
    },
    {
      refusal: "a domain that is not a domain name",
      args: ["acme", "--app", "mcoder", "--plan", "small", "--domain", "x.example.com;rm"],
      option: "--domain x.example.com;rm",
      problem: "tenants.acme.domain: must be a domain name",
      shows: '(got "x.example.com;rm")',
    },
    {
      refusal: "a domain another tenant serves",
      args: ["acme", "--app", "mcoder", "--plan", "small", "--domain", "company2.example.com"],
      option: "--domain company2.example.com",
      problem:
        'tenants.acme.domain: domain company2.example.com is already served by tenant "company2"',
    },
    {
      refusal: "a host over capacity",
      args: ["acme", "--app", "frontbase", "--plan", "team", "--domain", "acme.example.com"],
      at: memory,
      problem: `hosts.vps1.memoryMb: over capacity: tenants need ${allocatedMb(example, "vps1") + team} MB but host "vps1" has ${budgetMb(example, "vps1")} MB`,
    },
  ])(
    "refuses $refusal: exit 1, file byte-identical",
    async ({ refusal, args, at, option, problem, shows }) => {
      const dir = scratch(refusal.replace(/\W+/g, "-"), { "tenants.yaml": EXAMPLE });
      const result = await tenantry(dir, "add", ...args);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      // A problem of the new entry names the option behind it: the file has no line for it
      // yet. Anything else points at its line in the file as it is.
      const [key, message] = [
        problem.slice(0, problem.indexOf(": ")),
        problem.slice(problem.indexOf(": ")),
      ];
      const where =
        option === undefined
          ? `tenants\\.yaml:${at.line}:${at.col} ${escape(problem)}`
          : `${escape(option)} \\(${escape(key)}\\)${escape(message)}`;
      expect(problemLines(result.stderr)).toEqual({
        problems: [expect.stringMatching(new RegExp(`^${where}.*${escape(shows ?? "")}`))],
        summary: "1 problem; nothing was changed.",
      });
      expect(read(dir)).toBe(EXAMPLE);
      expect(filesIn(dir)).toEqual(["tenants.yaml"]);
    },
  );

  it.each([
    {
      mistake: "without --app",
      args: ["acme", "--plan", "small", "--domain", "acme.example.com"],
      message: "required option '--app <app>' not specified",
    },
    {
      mistake: "with --env not KEY=VALUE",
      args: ["acme", "--app", "mcoder", "--plan", "small", "--domain", "a.example.com"],
      env: "COMPANY_NAME",
      message: 'expected KEY=VALUE, got "COMPANY_NAME"',
    },
  ])(
    "is a usage error $mistake: exit 2, file untouched",
    async ({ mistake, args, env, message }) => {
      const dir = scratch(mistake.replace(/\W+/g, "-"), { "tenants.yaml": EXAMPLE });
      const extra = env === undefined ? [] : ["--env", "A=1", "--env", env];
      const result = await tenantry(dir, "add", ...args, ...extra);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain(message);
      expect(read(dir)).toBe(EXAMPLE);
    },
  );

  describe("with two hosts", () => {
    const twoHosts = withSecondHost(EXAMPLE);
    const m = manifestOf(twoHosts);

    it("--host puts the tenant on that host even when another has more room", async () => {
      expect(freeMb(m, "vps2")).toBeGreaterThan(freeMb(m, "vps1"));
      const dir = scratch("host-given", { "tenants.yaml": twoHosts });
      const result = await tenantry(
        dir,
        ...["add", "acme", "--app", "mcoder", "--plan", "small", "--domain", "acme.example.com"],
        ...["--host", "vps1"],
      );
      expect(result.code).toBe(0);
      const after = read(dir);
      const slot = slotAfterHighest(m, "vps1");
      expect(addedEntry(twoHosts, after)).toMatchObject({ acme: { host: "vps1", slot } });
      expect(result.stdout).toContain(`host vps1  slot ${slot}`);
      expect(result.stdout).toContain(portsLine(manifestOf(after), "acme"));
    });

    it("without --host picks the host that has room for the plan", async () => {
      expect(freeMb(m, "vps1")).toBeLessThan(m.plans.team!.memoryMb);
      expect(freeMb(m, "vps2")).toBeGreaterThanOrEqual(m.plans.team!.memoryMb);
      const dir = scratch("host-picked", { "tenants.yaml": twoHosts });
      const result = await tenantry(
        dir,
        ...["add", "shop", "--app", "frontbase", "--plan", "team", "--domain", "shop.example.com"],
      );
      expect(result.code).toBe(0);
      const after = read(dir);
      const slot = slotAfterHighest(m, "vps2");
      expect(addedEntry(twoHosts, after)).toMatchObject({ shop: { host: "vps2", slot } });
      expect(result.stdout).toContain(`host vps2  slot ${slot}`);
      // portBase 20000, and frontbase's routed services are its 1st and 3rd
      expect(result.stdout).toContain(portsLine(manifestOf(after), "shop"));
    });
  });
});
