// Pure: a preview summary as Markdown for a pull-request comment or a job summary. Every text
// that comes from the preview is escaped, so a value in tenants.yaml cannot inject markup, and
// the output stays under a character budget (GitHub refuses comments over 65,536 characters).
import type {
  Action,
  ChangedProperty,
  Flag,
  OwnerSummary,
  PreviewSummary,
  PropertyValue,
  ResourceChange,
  ResourceKind,
} from "./changes";

export interface RenderOptions {
  /** "preview" for a pull request or a deploy; "drift" for a refresh that expects no changes. */
  readonly mode: "preview" | "drift";
  /** DATA LOSS is accepted (the command exits 0); the summary says so. */
  readonly allowDataLoss: boolean;
  /** Longest output in characters; 0 for no limit. */
  readonly maxChars: number;
}

/** Default budget: GitHub's 65,536-character comment cap, less room for the workflow's marker. */
export const DEFAULT_MAX_CHARS = 65_000;

const KIND_LABEL: Record<ResourceKind, string> = {
  tenant: "tenant component",
  host: "host component",
  container: "container",
  volume: "volume",
  network: "network",
  image: "image",
  secret: "generated secret",
  dns: "DNS record",
  site: "nginx site",
  bootstrap: "host bootstrap",
  reload: "nginx reload",
  command: "remote command",
  provider: "provider",
  other: "resource",
};

/** Control characters (newlines included) would end a table row or a list item. */
function flatten(text: string): string {
  return [...text].map((c) => (c.charCodeAt(0) < 0x20 || c === "\u007f" ? " " : c)).join("");
}

/** Plain text safe in Markdown and HTML: markup characters become numeric entities. */
export function escapeText(text: string): string {
  return flatten(text).replace(/[&<>`*_[\]|\\~@]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A code span: nothing inside is Markdown or HTML, so it needs no escaping; the fence is longer
 * than any run of backticks in the text (CommonMark, "Code spans").
 */
export function code(text: string): string {
  const flat = flatten(text);
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") || flat.startsWith(" ") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

const VALUE_CHARS = 60;

function shorten(text: string, max = VALUE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A property value as shown: secrets as [secret], never their content. */
export function formatValue(v: PropertyValue): string {
  switch (v.state) {
    case "absent":
      return "(none)";
    case "secret":
      return code("[secret]");
    case "unknown":
      return "(known after apply)";
    case "known": {
      if (typeof v.value === "string" && v.value.includes("\n")) {
        const lines = v.value.split("\n").length;
        return `${code(shorten(JSON.stringify(v.value.split("\n", 1)[0] ?? "")))} … (${lines} lines)`;
      }
      return code(shorten(JSON.stringify(v.value) ?? "null"));
    }
  }
}

/** Two versions of a text (a script, an nginx config): its size and its first changed line. */
function multiLineChange(p: ChangedProperty): string | undefined {
  if (p.old.state !== "known" || p.new.state !== "known") return undefined;
  const [a, b] = [p.old.value, p.new.value];
  if (typeof a !== "string" || typeof b !== "string" || !(a.includes("\n") || b.includes("\n"))) {
    return undefined;
  }
  const before = a.split("\n");
  const after = b.split("\n");
  let i = 0;
  while (i < before.length && i < after.length && before[i] === after[i]) i++;
  const show = (line: string | undefined) =>
    line === undefined ? "(no line)" : code(shorten(JSON.stringify(line)));
  return `${before.length} → ${after.length} lines; line ${i + 1}: ${show(before[i])} → ${show(after[i])}`;
}

function describeProperty(p: ChangedProperty): string {
  const forces = p.forcesReplacement ? " (forces replacement)" : "";
  let change: string;
  if (p.kind === "add" || p.kind === "add-replace") change = `added: ${formatValue(p.new)}`;
  else if (p.kind === "delete" || p.kind === "delete-replace")
    change = `removed (was ${formatValue(p.old)})`;
  else change = multiLineChange(p) ?? `${formatValue(p.old)} → ${formatValue(p.new)}`;
  return `${code(p.path)}: ${change}${forces}`;
}

function describeAction(action: Action, c: ResourceChange): string {
  switch (action.kind) {
    case "create":
      return "create";
    case "import":
      return "import";
    case "refresh":
      return "refresh only";
    case "update":
      return "update";
    case "delete":
      return c.retained ? "drop (retained)" : "delete";
    case "replace":
      return action.order === "stop-first"
        ? "replace stop-first"
        : action.order === "rolling"
          ? "replace rolling"
          : "replace";
  }
}

const MAX_PROPERTIES = 12;

function resourceLines(c: ResourceChange): string[] {
  let line = `- **${describeAction(c.action, c)}** ${KIND_LABEL[c.kind]} ${code(c.name)}`;
  if (c.renamedFrom !== undefined) line += ` (was ${code(c.renamedFrom)})`;
  if (c.action.kind === "replace" && c.action.order === "rolling" && c.kind === "container") {
    line += ": the new container starts before the old one stops";
  }
  if (c.drift !== undefined) {
    line += c.drift.gone ? " — **deleted outside Pulumi**" : " — **changed outside Pulumi**";
  }
  const flags = c.flags.map((f) => `**${f.flag}**: ${escapeText(f.reason)}`);
  if (flags.length > 0) line += ` — ${flags.join("; ")}`;
  return [
    line,
    ...propertyLines(c.drift?.properties ?? [], "outside Pulumi: "),
    ...propertyLines(c.properties, c.drift !== undefined ? "pulumi up: " : ""),
  ];
}

function propertyLines(properties: readonly ChangedProperty[], prefix: string): string[] {
  const lines = properties
    .slice(0, MAX_PROPERTIES)
    .map((p) => `  - ${prefix}${describeProperty(p)}`);
  if (properties.length > MAX_PROPERTIES) {
    lines.push(`  - ${prefix}… ${properties.length - MAX_PROPERTIES} more properties`);
  }
  return lines;
}

function countWords(o: OwnerSummary): string {
  const parts: string[] = [];
  if (o.counts.drifted) parts.push(`${o.counts.drifted} changed outside Pulumi`);
  if (o.counts.create) parts.push(`${o.counts.create} to create`);
  if (o.counts.update) parts.push(`${o.counts.update} to update`);
  if (o.counts.replace) parts.push(`${o.counts.replace} to replace`);
  if (o.counts.delete) parts.push(`${o.counts.delete} to delete`);
  return parts.join(", ");
}

function ownerTitle(o: OwnerSummary): string {
  if (o.kind === "stack") return "stack-wide";
  const renamed = o.renamedFrom !== undefined ? ` (was ${escapeText(o.renamedFrom)})` : "";
  return `${escapeText(o.name)}${renamed}`;
}

function detailsBlock(o: OwnerSummary): string {
  const what = o.kind === "tenant" ? "tenant" : o.kind === "host" ? "host" : "";
  const flags = o.flags.length > 0 ? ` — ${o.flags.join(", ")}` : "";
  return [
    `<details><summary>${what} <b>${ownerTitle(o)}</b>: ${countWords(o)}${flags}</summary>`,
    "",
    ...o.changes.flatMap(resourceLines),
    "",
    "</details>",
    "",
  ].join("\n");
}

function cell(n: number): string {
  return n === 0 ? "" : String(n);
}

function tenantRow(o: OwnerSummary, drift: boolean): string {
  const c = o.counts;
  const drifted = drift ? ` ${cell(c.drifted)} |` : "";
  return `| ${ownerTitle(o)} | ${escapeText(o.host)} |${drifted} ${cell(c.create)} | ${cell(c.update)} | ${cell(c.replace)} | ${cell(c.delete)} | ${o.flags.join(", ")} |`;
}

function hostRow(o: OwnerSummary, drift: boolean): string {
  const c = o.counts;
  const drifted = drift ? ` ${cell(c.drifted)} |` : "";
  return `| ${ownerTitle(o)} |${drifted} ${cell(c.create)} | ${cell(c.update)} | ${cell(c.replace)} | ${cell(c.delete)} | ${o.flags.join(", ")} |`;
}

function header(first: string[], drift: boolean): string[] {
  const names = [
    ...first,
    ...(drift ? ["Drifted"] : []),
    "Create",
    "Update",
    "Replace",
    "Delete",
    "Flags",
  ];
  const align = names.map((n) => (["Tenant", "Host", "Flags"].includes(n) ? "---" : "---:"));
  return [`| ${names.join(" | ")} |`, `| ${align.join(" | ")} |`];
}

const MAX_ATTENTION = 20;

/** The list of what raised a flag, one line per resource, most severe tenants first. */
function attention(summary: PreviewSummary, flag: Flag): string[] {
  const lines: string[] = [];
  for (const o of summary.owners) {
    for (const c of o.changes) {
      for (const f of c.flags) {
        if (f.flag !== flag) continue;
        const who = o.kind === "stack" ? "stack" : `${o.kind} ${escapeText(o.name)}`;
        lines.push(`- ${who}: ${KIND_LABEL[c.kind]} ${code(c.name)}: ${escapeText(f.reason)}`);
      }
    }
  }
  if (lines.length > MAX_ATTENTION) {
    const more = lines.length - MAX_ATTENTION;
    return [...lines.slice(0, MAX_ATTENTION), `- … and ${more} more (see the details below)`];
  }
  return lines;
}

function engineTotals(summary: PreviewSummary): string {
  const entries = Object.entries(summary.changeSummary).filter(([, n]) => n > 0);
  if (entries.length === 0) return "";
  entries.sort(([a], [b]) => a.localeCompare(b));
  return `Pulumi's count of steps: ${entries.map(([op, n]) => `${escapeText(op)} ${n}`).join(", ")}.`;
}

/** The summary as Markdown, within `options.maxChars` (details left out first, then table rows). */
export function renderMarkdown(summary: PreviewSummary, options: RenderOptions): string {
  const head: string[] = [
    options.mode === "drift" ? "## tenantry drift check" : "## tenantry preview",
    "",
  ];
  if (summary.errors.length > 0) {
    head.push(
      `**The preview reported ${summary.errors.length} error(s)**; what it planned may be incomplete:`,
    );
    for (const e of summary.errors.slice(0, 5))
      head.push(`- ${code(shorten(e.message.trim(), 300))}`);
    head.push("");
  }
  const tenants = summary.owners.filter((o) => o.kind === "tenant");
  const others = summary.owners.filter((o) => o.kind !== "tenant");
  if (summary.owners.length === 0) {
    head.push(
      options.mode === "drift"
        ? "No drift: every resource matches the stack's state."
        : "No changes: no tenant or host is affected.",
    );
  } else if (options.mode === "drift") {
    head.push(
      "Resources differ from the stack's state: changed outside Pulumi, or changed in the program but not applied. Below, per tenant, what `pulumi up` would do about it.",
    );
  }
  head.push("");
  if (!summary.replacementOrderKnown) {
    head.push(
      "_This preview ran without `--show-replacement-steps`, so the order of each replacement is unknown; container replacements are counted as downtime._",
      "",
    );
  }
  const loss = attention(summary, "DATA LOSS");
  if (loss.length > 0) {
    const title =
      options.mode === "drift"
        ? "**DATA LOSS** if `pulumi up` ran now:"
        : options.allowDataLoss
          ? "**DATA LOSS**, accepted with `--allow-data-loss`:"
          : "**DATA LOSS**: `tenantry summarize` exits 1 unless `--allow-data-loss` is given (in CI, the `allow-data-loss` label on the pull request).";
    head.push(title, ...loss, "");
  }
  const down = attention(summary, "DOWNTIME");
  if (down.length > 0) head.push("**DOWNTIME**:", ...down, "");

  const totals = engineTotals(summary);
  const tail = totals === "" ? [] : [totals, ""];
  const budget = options.maxChars > 0 ? options.maxChars : Infinity;
  // Room kept for the note that says what was left out.
  const noteRoom = 400;
  let used = joined(head).length + joined(tail).length + noteRoom;

  const take = (
    rows: readonly OwnerSummary[],
    header: string[],
    row: (o: OwnerSummary) => string,
  ) => {
    if (rows.length === 0) return { lines: [] as string[], left: 0 };
    const lines = [...header];
    used += joined(header).length + 1;
    let left = 0;
    for (const o of rows) {
      const text = row(o);
      if (left === 0 && used + text.length + 1 <= budget) {
        lines.push(text);
        used += text.length + 1;
      } else left++;
    }
    lines.push("");
    used += 1;
    return { lines, left };
  };
  const drift = options.mode === "drift";
  const tenantTable = take(tenants, header(["Tenant", "Host"], drift), (o) => tenantRow(o, drift));
  const hostTable = take(others, header(["Host"], drift), (o) => hostRow(o, drift));

  const details: string[] = [];
  let detailsLeft = 0;
  for (const o of summary.owners) {
    const block = detailsBlock(o);
    if (detailsLeft === 0 && used + block.length + 1 <= budget) {
      details.push(block);
      used += block.length + 1;
    } else detailsLeft++;
  }

  const notes: string[] = [];
  const rowsLeft = tenantTable.left + hostTable.left;
  if (rowsLeft > 0 || detailsLeft > 0) {
    const what = [
      rowsLeft > 0 ? `${rowsLeft} table row(s)` : "",
      detailsLeft > 0 ? `the details of ${detailsLeft} tenant(s) or host(s)` : "",
    ]
      .filter((s) => s !== "")
      .join(" and ");
    const limit = options.maxChars.toLocaleString("en-US");
    notes.push(
      `_Left out to stay within ${limit} characters: ${what}. The flags above cover everything; for the full summary run \`tenantry summarize PREVIEW.json --max-chars 0\`._`,
      "",
    );
  }
  return joined([...head, ...tenantTable.lines, ...hostTable.lines, ...details, ...notes, ...tail]);
}

function joined(lines: readonly string[]): string {
  return (
    lines
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trimEnd() + (lines.length > 0 ? "\n" : "")
  );
}
