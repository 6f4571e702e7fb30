// Real tests drive Debian's sshd, nginx, dockerd, sudo and shellcheck as root, in network and
// mount namespaces (.ci/run installs them).
// Without them a suite is skipped and says why; with CI=true a missing one fails instead, so CI
// can never go green by skipping everything.
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, it } from "vitest";

/** What a real suite may need, and the Debian package that provides it. */
const PROVIDERS = {
  sshd: "openssh-server",
  ssh: "openssh-client",
  "ssh-keygen": "openssh-client",
  nginx: "nginx",
  dockerd: "docker.io",
  iptables: "iptables",
  busybox: "busybox-static",
  nsenter: "util-linux",
  ip: "iproute2",
  "ssh-keyscan": "openssh-client",
  adduser: "adduser",
  shellcheck: "shellcheck",
  sudo: "sudo",
  unshare: "util-linux",
  flock: "util-linux",
  cmp: "diffutils",
  // The TLS suites: Debian's certbot on the host, pebble as the ACME server, sslscan.
  certbot: "certbot",
  pebble: "pebble",
  "pebble-challtestsrv": "pebble",
  sslscan: "sslscan",
  openssl: "openssl",
  restic: "restic",
  sqlite3: "sqlite3",
} as const;

export type Tool = keyof typeof PROVIDERS;

/** Every real suite needs these: an SSH host with nginx, and the tools the scripts use. */
export const HOST_TOOLS: readonly Tool[] = [
  "sshd",
  "ssh-keygen",
  "ssh-keyscan",
  "nginx",
  "dockerd",
  "iptables",
  "busybox",
  "unshare",
  "nsenter",
  "ip",
  "adduser",
  "sudo",
  "flock",
  "cmp",
];

const SEARCH_PATH = [
  ...(process.env.PATH ?? "").split(delimiter),
  "/usr/local/sbin",
  "/usr/sbin",
  "/sbin",
].filter((d) => d !== "");

/** Absolute path of an executable, from PATH and the sbin directories; undefined if absent. */
export function findTool(name: string): string | undefined {
  for (const dir of SEARCH_PATH) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether this process may create a mount namespace (the test sshd runs in one). */
function mountNamespaces(): boolean {
  if (findTool("unshare") === undefined) return false;
  try {
    execFileSync("unshare", ["--mount", "--propagation", "private", "true"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Why a suite cannot run here, or undefined when it can. */
export function missingPrerequisites(
  tools: readonly Tool[],
  options: { root: boolean },
): string | undefined {
  const problems: string[] = [];
  if (options.root && process.getuid?.() !== 0) {
    problems.push("root (sshd, nginx and mount namespaces)");
  } else if (options.root && tools.includes("unshare") && !mountNamespaces()) {
    problems.push("mount namespaces (`unshare --mount true` fails here)");
  }
  const missing = [...new Set(tools)].filter((t) => findTool(t) === undefined);
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((t) => PROVIDERS[t]))].join(" ");
    problems.push(`${missing.join(", ")} (apt-get install ${packages})`);
  }
  return problems.length === 0 ? undefined : `needs ${problems.join(" and ")}`;
}

/**
 * `describe` for a suite that needs tools from Debian: skipped with the reason when one is
 * missing, failing instead when the environment variable CI is "true".
 */
export function describeWith(
  name: string,
  tools: readonly Tool[],
  body: () => void,
  options: { root: boolean } = { root: false },
): void {
  const missing = missingPrerequisites(tools, options);
  if (missing === undefined) {
    describe(name, body);
  } else if (process.env.CI === "true") {
    describe(name, () => {
      it("has its prerequisites", () => {
        throw new Error(`${name}: ${missing}; CI=true, so this fails instead of being skipped`);
      });
    });
  } else {
    console.warn(`skipping "${name}": ${missing}`);
    describe.skip(`${name} (skipped: ${missing})`, body);
  }
}

/** `describeWith` for a suite against a real test host: root, sshd, nginx and the scripts' tools. */
export function describeReal(name: string, tools: readonly Tool[], body: () => void): void {
  describeWith(name, [...HOST_TOOLS, ...tools], body, { root: true });
}
