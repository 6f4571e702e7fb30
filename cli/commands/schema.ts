// `tenantry schema`: the JSON Schema editors use for tenants.yaml, generated from the zod schema.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { manifestJsonSchema } from "../../manifest/schema";

/** Where the example manifest's modeline looks for the schema, relative to the manifest. */
export const SCHEMA_FILE = path.join("schema", "tenants.schema.json");

export function schemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}

export function registerSchema(program: Command): void {
  program
    .command("schema")
    .description(`Print the manifest's JSON Schema, or write it to ${SCHEMA_FILE}`)
    .option("--write", `write ${SCHEMA_FILE} in the working directory instead of printing`)
    .action((options: { write?: boolean }) => {
      if (!options.write) {
        process.stdout.write(schemaText());
        return;
      }
      mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
      writeFileSync(SCHEMA_FILE, schemaText());
      process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
    });
}
