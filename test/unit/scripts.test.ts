// The remote scripts as text: every one passes shellcheck for the example layout and for hostile
// values, the sudo wrapper hands its words over intact, and the install command line is compared
// whole, because that text is the contract with the host.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";
import {
  asRoot,
  hostBootstrapCommand,
  hostBootstrapScript,
  hostLayout,
  hostPreflightScript,
  isolationScript,
  hostReloadScript,
  siteInstallScript,
  siteRemoveScript,
  sudoersLine,
  type HostLayout,
} from "../../remote/scripts";
import type { Shell } from "../../remote/shell";
import {
  deployHookScript,
  tenantTlsRemoveScript,
  tenantTlsScript,
  wildcardCertificateScript,
  wildcardRemoveScript,
  type TenantTlsTarget,
} from "../../remote/tls";
import type { CertificatePlan } from "../../plan/tls";
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

/** Certificates with values the schema allows but the shell must quote (an email with "+"). */
const ACME_CERT: CertificatePlan = {
  kind: "acme",
  name: "tenantry-acme-2",
  host: "vps-1",
  names: ["acme-2.example.com", "shop.acme-2.co.uk"],
  account: { directory: "https://acme.example.net:14000/dir?x=1", email: "ops+tls@example.com" },
  certificate: "/etc/letsencrypt/live/tenantry-acme-2/fullchain.pem",
  key: "/etc/letsencrypt/live/tenantry-acme-2/privkey.pem",
  tenants: ["acme-2"],
};
const WILDCARD_CERT: CertificatePlan = {
  ...ACME_CERT,
  kind: "wildcard",
  name: "tenantry-wildcard-example.com",
  names: ["*.example.com"],
  zone: "example.com",
  account: { directory: "https://acme-v02.api.letsencrypt.org/directory" },
  certificate: "/etc/letsencrypt/live/tenantry-wildcard-example.com/fullchain.pem",
  key: "/etc/letsencrypt/live/tenantry-wildcard-example.com/privkey.pem",
};
const tlsTarget = (l: HostLayout, certificate: CertificatePlan): TenantTlsTarget => ({
  tenant: "acme-2",
  marker: "acme-2@vps-1",
  certificate,
  webroot: certificate.kind === "acme" ? `${l.dir}/acme-challenge` : undefined,
  snippets: `${l.dir}/tls/acme-2`,
});

const SCRIPTS: ReadonlyArray<readonly [string, (layout: HostLayout) => Shell]> = [
  ["tenant TLS (acme)", (l) => tenantTlsScript(l, tlsTarget(l, ACME_CERT))],
  ["tenant TLS (wildcard)", (l) => tenantTlsScript(l, tlsTarget(l, WILDCARD_CERT))],
  ["tenant TLS remove (acme)", (l) => tenantTlsRemoveScript(l, tlsTarget(l, ACME_CERT))],
  ["tenant TLS remove (wildcard)", (l) => tenantTlsRemoveScript(l, tlsTarget(l, WILDCARD_CERT))],
  ["host wildcard certificate", (l) => wildcardCertificateScript(l, WILDCARD_CERT)],
  ["host wildcard remove", (l) => wildcardRemoveScript(l, WILDCARD_CERT)],
  ["certbot deploy hook", (l) => deployHookScript(l)],
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

  // The command lines nest the script in quotes; shellcheck's heuristics about nested quotes
  // (SC1003) only make sense for plain values, so hostile ones are checked by round trip below.
  it.each(SCRIPTS)("%s as root and through sudo passes shellcheck -s sh", (_name, build) => {
    expect(shellcheck(asRoot("root", build(EXAMPLE)))).toBe("");
    const commandLine = asRoot("deploy", build(EXAMPLE));
    expect(shellcheck(commandLine)).toBe("");
    expect(shellcheck(words(commandLine, "/bin/sh")[1]!)).toBe("");
  });

  it.each(CASES)("%s reaches /bin/sh intact, as root and through sudo", (_name, layout, build) => {
    const body = build(layout);
    expect(words(asRoot("root", body), "/bin/sh")).toEqual(["-c", body.text]);
    const [flag, , name, script, hint] = words(asRoot("deploy", body), "/bin/sh");
    expect([flag, name, script]).toEqual(["-c", "tenantry-sudo", body.text]);
    expect(hint).toBe(
      "tenantry: user deploy cannot run sudo without a password; add to /etc/sudoers.d/tenantry: deploy ALL=(root) NOPASSWD: /bin/sh",
    );
  });
});

it("runs the bootstrap's preflight as the SSH user, then the bootstrap through sudo", () => {
  const command = hostBootstrapCommand(EXAMPLE, "vps-1", "deploy");
  const root = asRoot("deploy", hostBootstrapScript(EXAMPLE, "vps-1"));
  expect(command.endsWith(` && ${root}`)).toBe(true);
  const preflight = command.slice(0, command.length - root.length - " && ".length);
  expect(words(preflight, "/bin/sh")).toEqual([
    "-c",
    hostPreflightScript(EXAMPLE, "vps-1", "deploy").text,
    "tenantry-preflight",
  ]);
  expect(shellcheck(hostBootstrapCommand(EXAMPLE, "vps-1", "deploy"))).toBe("");
});

it("names the sudoers line a non-root user needs", () => {
  expect(sudoersLine("deploy")).toBe("deploy ALL=(root) NOPASSWD: /bin/sh");
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
  // The whole text the provider sends: the sudo wrapper, then the script as one quoted word
  // (every ' inside it written as '\''), then the hint for a user without the sudoers line.
  expect(asRoot("deploy", siteInstallScript(EXAMPLE, "acme")))
    .toBe(String.raw`/bin/sh -c 'if sudo -n /bin/sh -c : 2>/dev/null; then exec sudo -n /bin/sh -c "$1"; fi; printf "%s\n" "$2" >&2; exit 1' tenantry-sudo 'set -eu
umask 022
# Run before failing: a script that moved something aside puts it back here.
on_fail() { :; }
fail() { on_fail; printf "tenantry: %s\n" "$*" >&2; exit 1; }
work=$(mktemp -d) || fail "cannot create a temporary directory"
trap '\''rm -rf "$work"'\'' EXIT
mkdir -p /etc/nginx/tenantry/sites || fail '\''cannot create /etc/nginx/tenantry/sites'\''
# The lock belongs to root alone: a file others can open is a lock others can hold.
(umask 077 && : >>/etc/nginx/tenantry/lock) || fail '\''cannot create the lock /etc/nginx/tenantry/lock'\''
chmod 0600 /etc/nginx/tenantry/lock
exec 9>>/etc/nginx/tenantry/lock
flock -w 300 9 || fail '\''timed out after 300s waiting for the lock /etc/nginx/tenantry/lock'\''
# Problem lines ([warn] and worse) of nginx output $1, without the time and pid that Debian nginx puts first: they differ on every run.
nginx_problems() { sed -e '\''s|^[0-9/]* [0-9:]* \[\([a-z]*\)\] [0-9]*#[0-9]*: |[\1] |'\'' -e '\''s|^nginx: \[|[|'\'' "$1" | grep -F -e '\''[warn]'\'' -e '\''[error]'\'' -e '\''[crit]'\'' -e '\''[alert]'\'' -e '\''[emerg]'\'' || true; }
# nginx -t; its problem lines go to $1, its whole output to $1.out.
nginx_test() { if nginx -t >"$1.out" 2>&1; then rc=0; else rc=$?; fi; nginx_problems "$1.out" >"$1"; return "$rc"; }
# Succeeds when nginx -t passes and reports no problem line that $1 (before) lacks.
nginx_accepts() { nginx_test "$work/after" || return 1; if grep -F -x -v -f "$1" "$work/after" >"$work/new"; then return 1; fi; return 0; }
# Succeeds when the effective config (nginx -T) reads file $1: a file nginx never
# includes passes nginx -t too, and would be installed but not live.
nginx_loads() { nginx -T 2>/dev/null | grep -q -x -F "# configuration file $1:"; }
# The pid file of the nginx master, as its config (or its build) names it.
run_nginx() { nginx "$@"; }
nginx_pidfile() { pf=$(run_nginx -T 2>/dev/null | sed -n '\''s/^[[:space:]]*pid[[:space:]][[:space:]]*\([^;]*\);.*/\1/p'\'' | head -n 1); if [ -z "$pf" ]; then pf=$(run_nginx -V 2>&1 | sed -n '\''s/.*--pid-path=\([^ ]*\).*/\1/p'\''); fi; printf '\''%s\n'\'' "${"$"}{pf:-/run/nginx.pid}"; }
nginx_running() { pf=$(nginx_pidfile); [ -s "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null; }
require_running() { nginx_running || fail "nginx is not running on this host (start it: systemctl start nginx), so the change could not take effect; nothing was changed"; }
nginx_reload() { nginx -s reload >"$work/reload.out" 2>&1 || fail "nginx reload failed: $(cat "$work/reload.out")"; rm -f /etc/nginx/tenantry/reload-pending; }
reload_pending() { if [ -f /etc/nginx/tenantry/reload-pending ]; then nginx_test "$work/after" || fail "nginx -t fails; not reloading: $(cat "$work/after.out")"; nginx_reload; fi; }
# Writes file $2 from file $1 by a copy beside it and a rename, failing on a full disk.
replace_file() { cp -p "$1" "$2.tenantry-new" || { rm -f "$2.tenantry-new"; fail "cannot write $2 (disk full?)"; }; mv -f "$2.tenantry-new" "$2" || fail "cannot move $2 into place"; }
# Puts back the file the journal names: its previous version, or nothing if it had none.
roll_back() { live=$(cat /etc/nginx/tenantry/pending); if [ -f /etc/nginx/tenantry/pending.prev ]; then replace_file /etc/nginx/tenantry/pending.prev "$live"; restored="the previous version is back"; else rm -f "$live"; restored="removed it"; fi; rm -f /etc/nginx/tenantry/pending /etc/nginx/tenantry/pending.prev; }
if [ -f /etc/nginx/tenantry/pending ]; then roll_back; printf '\''tenantry: an interrupted run left %s untested; %s\n'\'' "$live" "$restored" >&2; fi
install_checked() {
  rm -f /etc/nginx/tenantry/pending.prev
  if [ -f "$2" ]; then cp -p "$2" /etc/nginx/tenantry/pending.prev || fail "cannot keep a copy of $2 (disk full?)"; fi
  printf '\''%s'\'' "$2" >/etc/nginx/tenantry/pending.new || { rm -f /etc/nginx/tenantry/pending.new; fail "cannot write the journal (disk full?)"; }
  mv -f /etc/nginx/tenantry/pending.new /etc/nginx/tenantry/pending || fail "cannot write the journal"
  # The new content beside the live file first: if that fails (a full disk), nothing changed.
  if ! cp -p "$1" "$2.tenantry-new"; then rm -f "$2.tenantry-new" /etc/nginx/tenantry/pending /etc/nginx/tenantry/pending.prev; fail "cannot write $2 (disk full?); nothing was changed"; fi
  mv -f "$2.tenantry-new" "$2" || fail "cannot move $2 into place"
  if nginx_accepts "$work/before"; then
    if nginx_loads "$2"; then
      rm -f /etc/nginx/tenantry/pending /etc/nginx/tenantry/pending.prev; return 0
    fi
    roll_back
    fail "nginx -t passes but nginx does not read $2 (its http block must include it); $restored"
  fi
  roll_back
  if [ -s "$work/new" ]; then problems=$(cat "$work/new"); else problems=$(cat "$work/after.out"); fi
  if [ "$broken_before" = 1 ]; then problems="nginx -t already failed before this change: $problems"; fi
  fail "nginx rejected $2; $restored and nginx keeps running without the change: $problems"
}
cat >"$work/site" || fail "cannot read the site config from stdin (disk full?)"
[ -s "$work/site" ] || fail '\''no site config for acme on stdin'\''
if [ -f /etc/nginx/tenantry/sites/acme.conf ] && cmp -s "$work/site" /etc/nginx/tenantry/sites/acme.conf; then echo '\''tenantry: site acme unchanged'\''; exit 0; fi
own=$(head -n 1 "$work/site")
# shellcheck disable=SC2013 # server_name holds one domain per word
for name in $(sed -n '\''s/^[[:space:]]*server_name[[:space:]]\{1,\}\(.*\);$/\1/p'\'' "$work/site"); do
  for other in /etc/nginx/tenantry/sites/*.conf; do
    if [ ! -f "$other" ] || [ "$other" = /etc/nginx/tenantry/sites/acme.conf ]; then continue; fi
    if [ "$(head -n 1 "$other")" = "$own" ]; then continue; fi
    if sed -n '\''s/^[[:space:]]*server_name[[:space:]]\{1,\}\(.*\);$/\1/p'\'' "$other" | tr '\'' '\'' '\''\n'\'' | grep -q -x -F "$name"; then
      fail "$name is still served by $other ($(head -n 1 "$other" | sed "s/^# //")): a domain moves between tenants in two applies: remove it from the tenant that has it and run pulumi up, then add it to this one and run pulumi up again"
    fi
  done
done
broken_before=0; nginx_test "$work/before" || broken_before=1
install_checked "$work/site" /etc/nginx/tenantry/sites/acme.conf
: >/etc/nginx/tenantry/reload-pending || fail "cannot flag the reload (disk full?)"
echo '\''tenantry: site acme installed; nginx reloads once in the host reload step'\''
' 'tenantry: user deploy cannot run sudo without a password; add to /etc/sudoers.d/tenantry: deploy ALL=(root) NOPASSWD: /bin/sh'`);
});
