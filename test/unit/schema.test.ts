// The JSON Schema editors use: committed, current, found by the example's modeline, and in
// agreement with the program on what a manifest is.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { SCHEMA_FILE, schemaText } from "../../cli/commands/schema";
import { parseManifest } from "../../manifest/load";

const root = path.resolve(__dirname, "../..");
const exampleFile = path.join(root, "tenants.yaml");
const example = readFileSync(exampleFile, "utf8");
const committed = path.join(root, SCHEMA_FILE);

function editorCheck(text: string): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(readFileSync(committed, "utf8")) as object);
  if (validate(parseDocument(text).toJS())) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}

describe("schema/tenants.schema.json", () => {
  it("is the schema the program validates with (run `npm run schema` when this fails)", () => {
    expect(readFileSync(committed, "utf8")).toBe(schemaText());
  });

  it("is what the example's modeline points at", () => {
    const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(example);
    expect(modeline).not.toBeNull();
    expect(path.resolve(root, modeline![1]!)).toBe(committed);
    expect(existsSync(committed)).toBe(true);
  });

  it("accepts the example manifest, as the program does", () => {
    expect(parseManifest(example, exampleFile).ok).toBe(true);
    expect(editorCheck(example)).toEqual([]);
  });

  it.each([
    ["a misspelt key", ["    hostKey:", "    hostkey:"], "must NOT have additional properties"],
    ["a tenant name that is not a DNS label", ["  company2:", "  Company2:"], "must match pattern"],
    ["a string where a number belongs", ["memoryMb: 2048", 'memoryMb: "2 GB"'], "must be integer"],
    ["an unknown tls mode", ["slot: 3", "slot: 3\n    tls: https"], "must be equal to one of"],
  ])("flags %s in the editor, as the program does", (_what, [from, to], editorSays) => {
    const broken = example.replace(from!, to!);
    expect(broken).not.toBe(example);
    expect(parseManifest(broken, exampleFile).ok).toBe(false);
    expect(editorCheck(broken).join("\n")).toContain(editorSays);
  });
});
