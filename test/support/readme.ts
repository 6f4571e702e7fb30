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

/** The first ```sh block under the heading: the commands a user runs on the host, as root. */
export function hostPreparation(readme = readFileSync(README, "utf8")): HostPreparation {
  const section = readme.slice(readme.indexOf(HEADING));
  if (!readme.includes(HEADING)) throw new Error(`README.md has no "${HEADING}" section`);
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (block === null) throw new Error(`README.md: no sh block under "${HEADING}"`);
  const lines = block[1]!.split("\n");
  const install = lines.find((l) => l.startsWith("apt-get install "));
  if (install === undefined)
    throw new Error("README.md: the host block has no apt-get install line");
  const packages = install
    .replace(/#.*/, "")
    .split(/\s+/)
    .slice(2)
    .filter((w) => w !== "" && !w.startsWith("-"));
  const script = lines.filter((l) => l !== install).join("\n");
  return { packages, script };
}
