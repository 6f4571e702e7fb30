// The README's "Preparing a host" steps, read from the README itself: the test host is prepared
// by exactly these commands, so the documentation cannot drift from what the tests do.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const README = join(__dirname, "..", "..", "README.md");
const HEADING = "### Preparing a host";

export interface HostPreparation {
  /** Packages of the `apt-get install` line (.ci/run installs them on the test machine). */
  readonly packages: readonly string[];
  /** Every other line of the host block, to run as root on the host, in order. */
  readonly script: string;
}

/** The ```sh block under the heading that installs packages: the commands run on the host, as root. */
export function hostPreparation(readme = readFileSync(README, "utf8")): HostPreparation {
  if (!readme.includes(HEADING)) throw new Error(`README.md has no "${HEADING}" section`);
  const section = readme.slice(readme.indexOf(HEADING));
  const end = section.indexOf("\n### ", HEADING.length);
  const blocks = [...(end < 0 ? section : section.slice(0, end)).matchAll(/```sh\n([\s\S]*?)```/g)];
  const lines = blocks
    .map((b) => b[1]!.split("\n"))
    .find((l) => l.some((line) => line.startsWith("apt-get install ")));
  if (lines === undefined) {
    throw new Error(`README.md: no sh block with an apt-get install line under "${HEADING}"`);
  }
  const install = lines.find((l) => l.startsWith("apt-get install "))!;
  const packages = install
    .replace(/#.*/, "")
    .split(/\s+/)
    .slice(2)
    .filter((w) => w !== "" && !w.startsWith("-"));
  const script = lines.filter((l) => l !== install).join("\n");
  return { packages, script };
}
