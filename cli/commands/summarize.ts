// `tenantry summarize PREVIEW.json`: what a `pulumi preview --json` means per customer, as
// Markdown for a pull-request comment. Exits 1 when the preview would lose data (unless
// --allow-data-loss), 2 when the file is not a preview document.
import { readFileSync } from "node:fs";
import { InvalidArgumentError, type Command } from "commander";
import { summarizePreview } from "../../preview/changes";
import { parsePreview, PreviewFormatError } from "../../preview/digest";
import { DEFAULT_MAX_CHARS, renderMarkdown } from "../../preview/render";

function readInput(file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : (err as Error).message;
    throw new Error(
      `${file}: ${why} (pass the file \`pulumi preview --json --show-replacement-steps > preview.json\` wrote, or - for stdin)`,
      { cause: err },
    );
  }
}

function maxChars(value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new InvalidArgumentError("a whole number of characters (0 for no limit)");
  }
  return Number(value);
}

export function registerSummarize(program: Command): void {
  program
    .command("summarize")
    .description(
      "Summarize `pulumi preview --json` per tenant as Markdown: what each customer gains, changes or loses, with DOWNTIME and DATA LOSS flags",
    )
    .argument("<preview>", "the JSON `pulumi preview --json` printed, or - for stdin")
    .option("--allow-data-loss", "exit 0 even when the preview deletes data (it is still flagged)")
    .option(
      "--drift",
      "word it as a drift check (`pulumi preview --refresh`); never exits 1 for data loss",
    )
    .option(
      "--max-chars <n>",
      `longest output in characters, details left out first (0: no limit)`,
      maxChars,
      DEFAULT_MAX_CHARS,
    )
    .action(
      (file: string, opts: { allowDataLoss?: boolean; drift?: boolean; maxChars: number }) => {
        const shown = file === "-" ? "(stdin)" : file;
        let summary;
        try {
          summary = summarizePreview(parsePreview(readInput(file), shown));
        } catch (err) {
          if (!(err instanceof PreviewFormatError)) throw err;
          process.stderr.write(
            `${err.message}\n${shown} is not a preview tenantry can read; nothing was summarized.\n`,
          );
          process.exitCode = 2;
          return;
        }
        const drift = opts.drift === true;
        process.stdout.write(
          renderMarkdown(summary, {
            mode: drift ? "drift" : "preview",
            allowDataLoss: opts.allowDataLoss === true,
            maxChars: opts.maxChars,
          }),
        );
        if (summary.dataLoss && !drift && opts.allowDataLoss !== true) {
          const tenants = summary.owners
            .filter((o) => o.flags.includes("DATA LOSS"))
            .map((o) => o.name || "stack");
          process.stderr.write(
            `tenantry summarize: DATA LOSS for ${tenants.join(", ")}; re-run with --allow-data-loss if that is intended.\n`,
          );
          process.exitCode = 1;
        }
      },
    );
}
