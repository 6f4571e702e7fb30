// `tenantry summarize` as pure functions: what each preview fixture means per tenant (whole
// rendered Markdown where the text is the contract), the flags a reviewer relies on, secrets
// never shown, markup from tenants.yaml values kept inert, the comment size cap, and the
// errors for files that are not a preview.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { actionOf, summarizePreview, valueAt, type Flag } from "../../preview/changes";
import { parsePreview, PreviewFormatError, type PreviewDigest } from "../../preview/digest";
import { code, escapeText, renderMarkdown, type RenderOptions } from "../../preview/render";
import { formatUrn, parseUrn, providerReferenceUrn } from "../../preview/urn";

const FIXTURES = path.resolve(__dirname, "../fixtures/preview");
const PREVIEW: RenderOptions = { mode: "preview", allowDataLoss: false, maxChars: 65_000 };

function fixture(name: string): PreviewDigest {
  const file = path.join(FIXTURES, `${name}.json`);
  return parsePreview(readFileSync(file, "utf8"), file);
}

function rendered(name: string, options: Partial<RenderOptions> = {}): string {
  return renderMarkdown(summarizePreview(fixture(name)), { ...PREVIEW, ...options });
}

/** Flags per tenant or host, as the summary table shows them. */
function flagsOf(name: string): Record<string, Flag[]> {
  return Object.fromEntries(
    summarizePreview(fixture(name)).owners.map((o) => [`${o.kind} ${o.name}`, [...o.flags]]),
  );
}

describe("URNs as the engine forms them (sdk/go/common/resource/urn/urn.go)", () => {
  it("joins parent types with $ and leaves out the root stack", () => {
    const parent = "tenantry:index:TenantInstance";
    expect(
      formatUrn("dev", "tenantry", parent, "docker:index/container:Container", "acme-web"),
    ).toBe(
      "urn:pulumi:dev::tenantry::tenantry:index:TenantInstance$docker:index/container:Container::acme-web",
    );
    expect(formatUrn("dev", "tenantry", "pulumi:pulumi:Stack", parent, "acme")).toBe(
      "urn:pulumi:dev::tenantry::tenantry:index:TenantInstance::acme",
    );
  });

  it("reads the parts back; the name is everything after the third ::", () => {
    expect(parseUrn("urn:pulumi:dev::tenantry::a:b:C$d:e:F::x::y")).toEqual({
      stack: "dev",
      project: "tenantry",
      qualifiedType: "a:b:C$d:e:F",
      type: "d:e:F",
      parentTypes: ["a:b:C"],
      name: "x::y",
    });
    expect(parseUrn("urn:pulumi:dev::tenantry::a:b:C")).toBeUndefined();
    expect(parseUrn("tenantry::a:b:C::x")).toBeUndefined();
  });

  it("takes the provider's URN out of a provider reference (urn::id)", () => {
    const urn =
      "urn:pulumi:dev::tenantry::tenantry:index:Host$pulumi:providers:docker::vps1-docker";
    expect(providerReferenceUrn(`${urn}::0f3c-11`)).toBe(urn);
    expect(providerReferenceUrn("not-a-reference")).toBeUndefined();
  });
});

describe("one resource's steps folded into one action", () => {
  it.each([
    [["create"], { kind: "create" }],
    [["update"], { kind: "update" }],
    [["delete"], { kind: "delete" }],
    [
      ["delete-replaced", "replace", "create-replacement"],
      { kind: "replace", order: "stop-first" },
    ],
    [["create-replacement", "replace", "delete-replaced"], { kind: "replace", order: "rolling" }],
    [["create-replacement", "replace"], { kind: "replace", order: "rolling" }],
    [["replace"], { kind: "replace", order: "unknown" }],
    [["same"], undefined],
    [["read"], undefined],
  ])("%j → %j", (ops, action) => {
    expect(actionOf(ops)).toEqual(action);
  });
});

describe("values shown for a changed property", () => {
  const inputs = { envs: "[secret]", ports: [{ external: 8000 }], "a.b": { c: 1 } };
  it.each([
    ["envs", { state: "secret" }],
    ["envs[2]", { state: "secret" }],
    ["ports[0].external", { state: "known", value: 8000 }],
    ['["a.b"].c', { state: "known", value: 1 }],
    ["ports[3]", { state: "absent" }],
    ["missing.deeper", { state: "absent" }],
  ])("%s", (p, value) => {
    expect(valueAt(inputs, p)).toEqual(value);
  });
  it("a value known only after apply is not shown as the engine's placeholder", () => {
    expect(valueAt({ image: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }, "image")).toEqual({
      state: "unknown",
    });
  });
});

describe("rendered summaries of the fixtures", () => {
  it("no change: says so and gives the engine's count", () => {
    expect(rendered("empty")).toBe(
      `## tenantry preview

No changes: no tenant or host is affected.

Pulumi's count of steps: same 41.
`,
    );
  });

  it("a new tenant: one row, NEW TENANT, everything it gets, and the host's reload", () => {
    expect(rendered("new-tenant")).toBe(
      `## tenantry preview

| Tenant | Host | Create | Update | Replace | Delete | Flags |
| --- | --- | ---: | ---: | ---: | ---: | --- |
| newco | vps1 | 8 |  |  |  | NEW TENANT |

| Host | Create | Update | Replace | Delete | Flags |
| --- | ---: | ---: | ---: | ---: | --- |
| vps1 |  | 1 |  |  |  |

<details><summary>tenant <b>newco</b>: 8 to create — NEW TENANT</summary>

- **create** tenant component \`newco\`
- **create** container \`newco-web\`
- **create** volume \`newco-web-files\`
- **create** volume \`newco-web-instance\`
- **create** generated secret \`newco-secret-SECRET_KEY\`
- **create** nginx site \`newco-site\`
- **create** DNS record \`newco-dns\`
- **create** network \`newco-net\`

</details>

<details><summary>host <b>vps1</b>: 1 to update</summary>

- **update** nginx reload \`vps1-nginx-reload\`
  - \`triggers[0]\`: \`"c264dd7a7e035fd016c4edcc66317da833e73344da25d9e7fb35ebf079…\` → \`"ee090911e13107c1224888011f1a0ed346d743340f1063c185b849e2ac…\`

</details>

Pulumi's count of steps: create 8, same 40, update 1.
`,
    );
  });

  it("data loss: listed first with the gate, each volume and secret with its reason", () => {
    expect(rendered("data-loss")).toBe(
      `## tenantry preview

**DATA LOSS**: \`tenantry summarize\` exits 1 unless \`--allow-data-loss\` is given (in CI, the \`allow-data-loss\` label on the pull request).
- tenant tenant1: volume \`tenant1-edge-data\`: deleted without retainOnDelete: its data is deleted
- tenant tenant1: volume \`tenant1-redis-data\`: replaced without retainOnDelete: its data is deleted
- tenant tenant1: generated secret \`tenant1-secret-DB_PASSWORD\`: generated secret replaced: data written with the old value (a database password, a key) can no longer be opened

| Tenant | Host | Create | Update | Replace | Delete | Flags |
| --- | --- | ---: | ---: | ---: | ---: | --- |
| tenant1 | vps1 |  |  | 2 | 2 | DATA LOSS |

<details><summary>tenant <b>tenant1</b>: 2 to replace, 2 to delete — DATA LOSS</summary>

- **delete** volume \`tenant1-edge-data\` — **DATA LOSS**: deleted without retainOnDelete: its data is deleted
- **replace rolling** volume \`tenant1-redis-data\` — **DATA LOSS**: replaced without retainOnDelete: its data is deleted
  - \`name\`: \`"tenant1-redis-old"\` → \`"tenant1-redis-data"\` (forces replacement)
- **replace stop-first** generated secret \`tenant1-secret-DB_PASSWORD\` — **DATA LOSS**: generated secret replaced: data written with the old value (a database password, a key) can no longer be opened
  - \`length\`: \`24\` → \`32\` (forces replacement)
- **delete** container \`tenant1-edge\`

</details>

Pulumi's count of steps: delete 2, replace 2, same 37.
`,
    );
  });

  it("--allow-data-loss keeps the flags and says they were accepted", () => {
    const text = rendered("data-loss", { allowDataLoss: true });
    expect(text).toContain("**DATA LOSS**, accepted with `--allow-data-loss`:\n");
    expect(text).toContain("| tenant1 | vps1 |  |  | 2 | 2 | DATA LOSS |");
  });

  it("stop-first replacements: containers and a DNS record changing type are DOWNTIME", () => {
    const text = rendered("replace-stop-first");
    expect(text.split("\n\n")[1]).toBe(
      `**DOWNTIME**:
- tenant company2: container \`company2-web\`: replaced stop-first: the old container stops before the new one starts
- tenant markplus: container \`markplus-web\`: replaced stop-first: the old container stops before the new one starts
- tenant tenant1: DNS record \`tenant1-dns\`: DNS record replaced: the name does not resolve between the delete and the create`,
    );
    expect(text).toContain(
      '  - `image`: `"sha256:4bfef276981466a2c77c6d89e7ba9c4ad595c5bf99cb9904038…` → (known after apply) (forces replacement)',
    );
    expect(text).toContain(
      '  - `content`: `"203.0.113.10"` → `"vps1.example.net"`\n  - `type`: `"A"` → `"CNAME"` (forces replacement)',
    );
  });

  it("a rolling replacement is shown as such, without DOWNTIME", () => {
    const text = rendered("replace-rolling");
    expect(text).toContain(
      "- **replace rolling** container `markplus-web`: the new container starts before the old one stops\n",
    );
    expect(text).not.toContain("DOWNTIME");
    expect(text).toContain("| markplus | vps1 |  |  | 1 |  |  |");
  });

  it("without replacement steps the order is unknown: said once, containers counted as downtime", () => {
    const text = rendered("replace-no-steps");
    expect(text).toContain("ran without `--show-replacement-steps`");
    expect(text).toContain(
      "- tenant markplus: container `markplus-web`: replaced; the preview does not show the order, and the Docker provider replaces containers stop-first",
    );
  });

  it("a rename with aliases is one tenant (was ...), not a new one and an offboarded one", () => {
    const text = rendered("rename-aliases");
    expect(text).toContain("| company3 (was company2) | vps1 |  | 1 | 5 |  | DOWNTIME, RETAINED |");
    expect(text).toContain(
      "- **replace rolling** volume `company3-web-files` (was `company2-web-files`) — **RETAINED**: replaced: the new volume starts empty; the old one stays on the host (retainOnDelete)",
    );
    expect(text).toContain(
      '  - `stdin`: 24 → 24 lines; line 1: `"# tenantry-site: company2@vps1"` → `"# tenantry-site: company3@vps1"`',
    );
  });

  it("drift: what changed outside Pulumi, then what pulumi up would do", () => {
    const text = rendered("drift", { mode: "drift" });
    expect(text).toContain("## tenantry drift check\n");
    expect(text).toContain("| company2 | vps1 | 1 |  | 1 |  |  |  |");
    expect(text).toContain(
      `- **update** container \`company2-web\` — **changed outside Pulumi**
  - outside Pulumi: \`memory\`: \`300\` → \`512\`
  - outside Pulumi: \`memorySwap\`: \`300\` → \`512\`
  - pulumi up: \`memory\`: \`512\` → \`300\``,
    );
    expect(text).toContain("- **create** network `tenant1-net` — **deleted outside Pulumi**");
    // Resources the refresh found unchanged are not listed.
    expect(summarizePreview(fixture("drift")).owners.map((o) => o.name)).toEqual([
      "company2",
      "tenant1",
    ]);
  });
});

describe("the README's example comment", () => {
  it("is the summary of test/fixtures/preview/multi-tenant.json, as rendered now", () => {
    const readme = readFileSync(path.resolve(__dirname, "../../README.md"), "utf8");
    expect(readme).toContain(`\`\`\`markdown\n${rendered("multi-tenant")}\`\`\``);
  });
});

describe("flags per tenant and host", () => {
  it.each<[string, Record<string, Flag[]>]>([
    ["empty", {}],
    ["new-tenant", { "tenant newco": ["NEW TENANT"], "host vps1": [] }],
    ["new-host", { "tenant shop": ["NEW TENANT"], "host vps2": ["NEW HOST"] }],
    ["update", { "tenant company2": [], "tenant markplus": [] }],
    [
      "replace-stop-first",
      {
        "tenant company2": ["DOWNTIME"],
        "tenant markplus": ["DOWNTIME"],
        "tenant tenant1": ["DOWNTIME"],
        "host vps1": [],
      },
    ],
    ["replace-rolling", { "tenant tenant1": ["RETAINED"], "tenant markplus": [] }],
    ["replace-no-steps", { "tenant markplus": ["DOWNTIME", "RETAINED"] }],
    ["data-loss", { "tenant tenant1": ["DATA LOSS"] }],
    // Offboarding takes the site and DNS away on purpose: no DOWNTIME on top of OFFBOARDED.
    ["offboard", { "tenant company2": ["OFFBOARDED", "RETAINED"], "host vps1": [] }],
    ["host-removed", { "host vps2": ["HOST REMOVED"] }],
    [
      "multi-tenant",
      {
        "tenant markplus": ["DOWNTIME"],
        "tenant newco": ["NEW TENANT"],
        "tenant tenant1": ["RETAINED"],
        "host vps1": [],
      },
    ],
    ["rename-aliases", { "tenant company3": ["DOWNTIME", "RETAINED"], "host vps1": [] }],
  ])("%s", (name, flags) => {
    expect(flagsOf(name)).toEqual(flags);
    expect(summarizePreview(fixture(name)).dataLoss).toBe(name === "data-loss");
  });
});

/** A preview step creating a resource under `parent` (a URN) or at the top. */
function createStep(
  type: string,
  name: string,
  parent?: string,
  inputs: Record<string, unknown> = {},
) {
  const parentType = parent === undefined ? "" : parseUrn(parent)!.qualifiedType;
  const urn = formatUrn("dev", "tenantry", parentType, type, name);
  return {
    op: "create",
    urn,
    newState: { urn, type, parent: parent ?? "", inputs },
    detailedDiff: null,
  };
}

describe("secrets and markup", () => {
  it("a secret is shown as [secret], whatever the path into it", () => {
    const tenant = formatUrn("dev", "tenantry", "", "tenantry:index:TenantInstance", "acme");
    const container = formatUrn(
      "dev",
      "tenantry",
      "tenantry:index:TenantInstance",
      "docker:index/container:Container",
      "acme-web",
    );
    const state = (envs: unknown) => ({
      urn: container,
      type: "docker:index/container:Container",
      parent: tenant,
      inputs: { envs },
    });
    const doc = {
      steps: [
        {
          op: "update",
          urn: container,
          oldState: state("[secret]"),
          newState: state("[secret]"),
          diffReasons: ["envs"],
          detailedDiff: { "envs[3]": { kind: "update", inputDiff: true } },
        },
      ],
    };
    const text = renderMarkdown(
      summarizePreview(parsePreview(JSON.stringify(doc), "p.json")),
      PREVIEW,
    );
    expect(text).toContain("  - `envs[3]`: `[secret]` → `[secret]`\n");
  });

  it("the fixtures never hold the offline run's secret values, so no summary can show them", () => {
    for (const name of ["new-tenant", "multi-tenant", "rename-aliases", "drift"]) {
      const raw = readFileSync(path.join(FIXTURES, `${name}.json`), "utf8");
      expect(raw).not.toContain("offline-placeholder-not-a-secret");
      expect(raw).not.toMatch(/SECRET_KEY=mock/);
      expect(raw).toContain('"[secret]"');
    }
  });

  it("values from tenants.yaml cannot inject Markdown or HTML", () => {
    expect(escapeText("<img src=x>|**b**@team")).toBe(
      "&#60;img src=x&#62;&#124;&#42;&#42;b&#42;&#42;&#64;team",
    );
    expect(code("a`b``c")).toBe("```a`b``c```");
    expect(code("x\n\n- y")).toBe("`x  - y`");
    const tenant = formatUrn("dev", "tenantry", "", "tenantry:index:TenantInstance", "<b>x</b>|y");
    const doc = { steps: [createStep("tenantry:index:TenantInstance", "<b>x</b>|y")] };
    expect(doc.steps[0]!.urn).toBe(tenant);
    const text = renderMarkdown(
      summarizePreview(parsePreview(JSON.stringify(doc), "p.json")),
      PREVIEW,
    );
    expect(text).toContain("| &#60;b&#62;x&#60;/b&#62;&#124;y |");
    // Inside a code span it is shown as typed; nowhere else is it markup.
    expect(text).toContain("- **create** tenant component `<b>x</b>|y`");
    expect(text.replace(/`[^`]*`/g, "")).not.toContain("<b>x</b>");
  });
});

describe("GitHub's comment cap (65,536 characters)", () => {
  /** 1,000 new tenants with three resources each; every 250th loses a volume's data. */
  function bigPreview(): string {
    const steps: unknown[] = [];
    for (let i = 0; i < 1000; i++) {
      const name = `tenant-${String(i).padStart(4, "0")}`;
      const component = createStep("tenantry:index:TenantInstance", name);
      steps.push(component);
      steps.push(
        createStep("docker:index/container:Container", `${name}-web`, component.urn, {
          memory: 300,
        }),
      );
      steps.push(createStep("docker:index/network:Network", `${name}-net`, component.urn));
      if (i % 250 === 125) {
        const urn = formatUrn(
          "dev",
          "tenantry",
          "tenantry:index:TenantInstance",
          "docker:index/volume:Volume",
          `${name}-web-data`,
        );
        steps.push({
          op: "delete",
          urn,
          oldState: { urn, type: "docker:index/volume:Volume", parent: component.urn },
          detailedDiff: null,
        });
      }
    }
    return JSON.stringify({ steps, changeSummary: { create: 3000, delete: 4 } });
  }

  it("stays under the limit, keeps every flagged tenant, and says what it left out", () => {
    const summary = summarizePreview(parsePreview(bigPreview(), "big.json"));
    const text = renderMarkdown(summary, PREVIEW);
    expect(text.length).toBeLessThanOrEqual(65_000);
    for (const t of ["tenant-0125", "tenant-0375", "tenant-0625", "tenant-0875"]) {
      expect(text).toContain(
        `- tenant ${t}: volume \`${t}-web-data\`: deleted without retainOnDelete`,
      );
      expect(text).toMatch(new RegExp(`^\\| ${t} \\|.*DATA LOSS, NEW TENANT \\|$`, "m"));
    }
    expect(text).toMatch(
      /_Left out to stay within 65,000 characters: .*the details of \d+ tenant\(s\)/,
    );
    expect(text.trimEnd().endsWith("Pulumi's count of steps: create 3000, delete 4.")).toBe(true);
  });

  it("--max-chars 0 leaves nothing out", () => {
    const summary = summarizePreview(parsePreview(bigPreview(), "big.json"));
    const text = renderMarkdown(summary, { ...PREVIEW, maxChars: 0 });
    expect(text.length).toBeGreaterThan(65_000);
    expect(text).not.toContain("Left out");
    expect(text.match(/^<details>/gm)).toHaveLength(1000);
  });
});

describe("files that are not a preview", () => {
  function problems(text: string): string[] {
    try {
      parsePreview(text, "p.json");
    } catch (err) {
      if (err instanceof PreviewFormatError) return err.message.split("\n");
      throw err;
    }
    throw new Error("parsed");
  }

  it("the malformed fixtures: every problem with its line, column and key path", () => {
    const file = path.join(FIXTURES, "malformed-shape.json");
    expect(() => parsePreview(readFileSync(file, "utf8"), "malformed-shape.json")).toThrow(
      PreviewFormatError,
    );
    expect(problems(readFileSync(file, "utf8"))).toEqual([
      'p.json:4:19 steps[0].op: is string "destroy" (one of same, create, update, delete, replace, create-replacement, delete-replaced, read, read-replacement, refresh, discard, discard-replaced, remove-pending-replace, import, import-replacement, diff, extend-parameterize)',
      'p.json:10:20 steps[1].urn: is string "tenantry:index:TenantInstance$docker:index/container:Container::newco-web" (a URN: urn:pulumi:<stack>::<project>::<qualified type>::<name>)',
      'p.json:13:29 steps[1].detailedDiff.memory.kind: is string "changed" (one of add, add-replace, delete, delete-replace, update, update-replace)',
      'p.json:20:19 changeSummary.update: is string "one" (a count: a whole number ≥ 0)',
    ]);
    const syntax = problems(readFileSync(path.join(FIXTURES, "malformed-syntax.json"), "utf8"));
    expect(syntax).toHaveLength(1);
    expect(syntax[0]).toMatch(
      /^p\.json:11:13 \(top level\): not valid JSON \(.+\); expected the one JSON document `pulumi preview --json` prints/,
    );
  });

  it.each([
    ["", /^p\.json:1:1 \(top level\): empty file; /],
    ["[1, 2]", /^p\.json:1:1 \(top level\): is a list; /],
    [
      '{"name": "x"}',
      /^p\.json:1:1 \(top level\): has neither "steps" nor "changeSummary" \(keys: name\)/,
    ],
    [
      '{"sequence":0}\n{"sequence":1}',
      /^p\.json:2:1 \(top level\): one JSON object per line: this is a stream of engine events/,
    ],
    [
      "Previewing update (dev)\n",
      /^p\.json:1:1 \(top level\): this is pulumi's text output, not JSON/,
    ],
  ])("%j", (text, message) => {
    expect(problems(text)[0]).toMatch(message);
  });

  it("a document without steps (omitted when empty) is an empty preview", () => {
    expect(summarizePreview(parsePreview("{}", "p.json")).owners).toEqual([]);
  });
});
