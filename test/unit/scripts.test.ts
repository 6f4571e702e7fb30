// The remote scripts as text: every one passes shellcheck for the example layout and for hostile
// values, the sudo wrapper hands its words over intact, and the install command line is compared
// whole, because that text is the contract with the host.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import { asRoot } from "../../remote/operation";
import {
  BOOTSTRAP,
  hostBootstrapCommand,
  hostBootstrapScript,
  hostLayout,
  hostPreflightScript,
  isolationScript,
  hostReloadScript,
  siteInstallScript,
  layoutArgs,
  siteInstallCommand,
  siteRemoveScript,
  type HostLayout,
} from "../../remote/scripts";
import type { Shell } from "../../remote/shell";
import { deployHookScript } from "../../remote/tls";
import { describeWith } from "../support/prereq";
import { shellcheck } from "../support/shellcheck";

/** The layout of the example manifest: Debian's defaults. */
const EXAMPLE = hostLayout({
  dir: "/etc/nginx/tenantry",
  include: "/etc/nginx/conf.d/tenantry.conf",
  listen: ["80", "[::]:80"],
});

/** Paths the schema would refuse but the builders must still quote: spaces and quotes. */
const HOSTILE: HostLayout = {
  dir: '/srv/it\'s a "dir"',
  include: "/etc/nginx/conf d/tenantry's.conf",
  nginx: ["/opt/my nginx/sbin/nginx", "-c", "/etc/nginx/it's.conf"],
  listen: ["127.0.0.1:8080"],
};

// The TLS operations' bodies are shellchecked as part of the entry point
// (test/unit/entryPoint.test.ts), their command lines in test/unit/tls.test.ts.
const SCRIPTS: ReadonlyArray<readonly [string, (layout: HostLayout) => Shell]> = [
  ["certbot deploy hook", () => deployHookScript()],
  ["site install", (l) => siteInstallScript(l, "acme-2")],
  ["site remove", (l) => siteRemoveScript(l, "acme-2", "acme-2@vps-1")],
  ["host reload", (l) => hostReloadScript(l)],
  ["host bootstrap", (l) => hostBootstrapScript(l, "vps-1")],
  ["host preflight", (l) => hostPreflightScript(l, "vps-1", "deploy")],
  ["container isolation", () => isolationScript()],
];

const CASES = [EXAMPLE, HOSTILE].flatMap((layout, i) =>
  SCRIPTS.map(
    ([name, build]) =>
      [`${name} (${i === 0 ? "example" : "hostile"} layout)`, layout, build] as const,
  ),
);

/** The words a command line hands to its first program, as /bin/sh parses it. */
function words(commandLine: string, program: string): string[] {
  expect(commandLine.startsWith(`${program} `)).toBe(true);
  const rest = commandLine.slice(program.length + 1);
  const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${rest}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

describeWith("generated scripts", ["shellcheck"], () => {
  it.each(CASES)("%s passes shellcheck -s sh", (_name, layout, build) => {
    expect(shellcheck(build(layout).text)).toBe("");
  });
});

it("runs the bootstrap's preflight as the SSH user, then the bootstrap through the entry point", () => {
  const command = hostBootstrapCommand(EXAMPLE, "vps-1", "deploy", "0123456789abcdef");
  const root = asRoot("deploy", BOOTSTRAP, ["0123456789abcdef", ...layoutArgs(EXAMPLE), "vps-1"]);
  expect(command.endsWith(` && ${root}`)).toBe(true);
  const preflight = command.slice(0, command.length - root.length - " && ".length);
  expect(words(preflight, "/bin/sh")).toEqual([
    "-c",
    hostPreflightScript(EXAMPLE, "vps-1", "deploy").text,
    "tenantry-preflight",
  ]);
  expect(shellcheck(command)).toBe("");
});

it("keeps nginx's problem lines comparable across runs (no time, no pid)", () => {
  const text = siteInstallScript(EXAMPLE, "acme").text;
  const fn = text.split("\n").find((l) => l.startsWith("nginx_problems()"))!;
  const output = [
    '2026/01/02 03:04:05 [warn] 1234#1234: conflicting server name "a.example.com" on 0.0.0.0:80, ignored',
    'nginx: [emerg] open() "/etc/nginx/x.conf" failed (2: No such file or directory)',
    "2026/01/02 03:04:05 [notice] 1234#1234: signal process started",
    "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok",
  ].join("\n");
  const file = join(mkdtempSync(join(tmpdir(), "tenantry-unit-")), "nginx.out");
  writeFileSync(file, output + "\n");
  const problems = execFileSync("/bin/sh", ["-c", `${fn}\nnginx_problems "$1"`, "sh", file], {
    encoding: "utf8",
  });
  rmSync(dirname(file), { recursive: true });
  expect(problems).toBe(
    [
      '[warn] conflicting server name "a.example.com" on 0.0.0.0:80, ignored',
      '[emerg] open() "/etc/nginx/x.conf" failed (2: No such file or directory)',
      "",
    ].join("\n"),
  );
});

it("renders the site install command line for a non-root user exactly", () => {
  // The whole text the provider sends: a wrapper that checks the entry point is there and sudo
  // allows it, then the entry point's words: the operation and its arguments, nothing else.
  expect(siteInstallCommand("deploy", EXAMPLE, "acme")).toBe(
    String.raw`/bin/sh -c 'if [ ! -x /usr/local/sbin/tenantry-root ]; then printf '\''%s\n'\'' '\''tenantry: this host has no /usr/local/sbin/tenantry-root, the one command tenantry runs as root; install it as root (README, "Preparing a host"), then run again'\'' >&2; exit 1; fi
if sudo -n -l "$1" >/dev/null 2>&1; then shift 2; exec sudo -n "$@"; fi
printf '\''%s\n'\'' "$2" >&2
exit 1' tenantry-sudo /usr/local/sbin/tenantry-root 'tenantry: user deploy may not run /usr/local/sbin/tenantry-root through sudo without a password; add to /etc/sudoers.d/tenantry: deploy ALL=(root) NOPASSWD: /usr/local/sbin/tenantry-root' /usr/local/sbin/tenantry-root site-install /etc/nginx/tenantry /etc/nginx/conf.d/tenantry.conf '' acme`,
  );
  expect(words(siteInstallCommand("root", EXAMPLE, "acme"), "/bin/sh")[1]).toMatch(
    /\nexec \/usr\/local\/sbin\/tenantry-root site-install \/etc\/nginx\/tenantry \/etc\/nginx\/conf.d\/tenantry.conf '' acme$/,
  );
});

it("refuses, before any command exists, a layout the entry point would refuse", () => {
  expect(() => siteInstallCommand("deploy", HOSTILE, "acme")).toThrow(
    `tenantry-root site-install: dir "/srv/it's a \\"dir\\"" is not tenantry's own directory under /etc/nginx (hosts.*.nginx.dir)`,
  );
});
