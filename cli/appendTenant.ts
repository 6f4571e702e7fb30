// Adds one tenant entry to manifest text by inserting lines after the last tenant, so every
// byte already in the file (comments, flow maps, quoting, blank lines) stays as it was.
// Re-serializing the parsed document would reflow long lines and move comments.
import { Document, isMap, isScalar, isSeq, LineCounter, parseDocument, type Pair } from "yaml";

/** `entry` is the tenant's map as it should appear (key order kept); aliases print as [a, b]. */
export function appendTenant(text: string, name: string, entry: Record<string, unknown>): string {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (!isMap(doc.contents)) throw new Error("the manifest is not a map of sections");
  const section = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === "tenants");
  const tenants = section?.value;

  if (section === undefined) {
    const sep = text === "" || text.endsWith("\n") ? "" : "\n";
    return `${text}${sep}tenants:\n${renderEntry(name, entry, 2, 2)}`;
  }
  if (isMap(tenants) && tenants.flow && tenants.items.length === 0 && tenants.range) {
    // `tenants: {}` becomes a block map holding the one entry.
    const [start, end] = tenants.range;
    const lineEnd = endOfLine(text, end);
    const before = text.slice(0, start).replace(/[ \t]+$/, "");
    const line = `${before}${text.slice(end, lineEnd)}`.replace(/[ \t]+$/, "");
    return `${line}\n${renderEntry(name, entry, 2, 2)}${text.slice(lineEnd + 1)}`;
  }
  if (!isMap(tenants) || tenants.flow || tenants.items.length === 0) {
    throw new Error(
      "`tenants:` is not a block map of entries; add the tenant by hand (see the example tenants.yaml)",
    );
  }

  const items = tenants.items as Pair[];
  const last = items[items.length - 1]!;
  const entryIndent = lines.linePos(rangeOf(last.key)[0]).col - 1;
  const firstInner = isMap(last.value) && !last.value.flow ? last.value.items[0]?.key : undefined;
  const innerIndent =
    firstInner === undefined ? 2 : lines.linePos(rangeOf(firstInner)[0]).col - 1 - entryIndent;

  // After the last entry's lines and the comments indented under it (they belong to it).
  let at = rangeOf(last.value ?? last.key)[1];
  let prefix = "";
  if (at > 0 && text[at - 1] !== "\n") {
    const lineEnd = endOfLine(text, at);
    at = lineEnd < text.length ? lineEnd + 1 : lineEnd;
    if (lineEnd === text.length) prefix = "\n";
  }
  for (;;) {
    const comment = /^([ \t]*)#[^\n]*(\n|$)/.exec(text.slice(at));
    if (comment === null || comment[1]!.length <= entryIndent) break;
    at += comment[0].length;
    if (comment[2] === "") prefix = "\n";
  }
  // Keep the file's habit of separating entries with a blank line.
  const previous = items[items.length - 2];
  const between = previous
    ? text.slice(rangeOf(previous.value ?? previous.key)[1], rangeOf(last.key)[0])
    : "";
  if (
    between
      .split("\n")
      .slice(0, -1)
      .some((l) => l.trim() === "")
  )
    prefix += "\n";

  return `${text.slice(0, at)}${prefix}${renderEntry(name, entry, entryIndent, innerIndent)}${text.slice(at)}`;
}

function renderEntry(
  name: string,
  entry: Record<string, unknown>,
  entryIndent: number,
  innerIndent: number,
): string {
  const doc = new Document({ [name]: entry });
  const aliases = doc.getIn([name, "aliases"], true);
  if (isSeq(aliases)) aliases.flow = true;
  const pad = " ".repeat(entryIndent);
  return doc
    .toString({ indent: Math.max(1, innerIndent), lineWidth: 0, flowCollectionPadding: false })
    .split("\n")
    .map((line) => (line === "" ? line : pad + line))
    .join("\n");
}

function rangeOf(node: unknown): [number, number, number] {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  if (!range) throw new Error("the manifest has an entry without a source position");
  return range;
}

function endOfLine(text: string, from: number): number {
  const i = text.indexOf("\n", from);
  return i === -1 ? text.length : i;
}
