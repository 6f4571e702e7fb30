// Pure: the shell that runs on a host over SSH. Every value goes through `sh` (shell.ts); the
// scripts are idempotent, serialise on a host-side lock and never leave nginx on a config that
// fails `nginx -t`. File contents travel on stdin, never in the command text.
import { siteFileName } from "../core/names";
import { markerLine } from "./nginx";
import { NGINX_OWN_DIRS, NGINX_OWN_FILES, NGINX_ROOT } from "../core/nginxPaths";
import { PATTERNS, argValue, asRoot, type OperationParam, type RootOperation } from "./operation";
import { raw, script, sh, type Shell } from "./shell";

/** A host's nginx settings as the manifest gives them (`hosts.<name>.nginx`). */
export interface NginxSettings {
  readonly dir: string;
  readonly include: string;
  readonly config?: string | undefined;
  readonly listen: readonly string[];
}

/** Where tenantry's files live on a host and how nginx is invoked there. */
export interface HostLayout {
  /** Directory tenantry owns: sites/, lock, reload flag. */
  readonly dir: string;
  /** File nginx includes in its http block; tenantry writes it. */
  readonly include: string;
  /** argv prefix that runs nginx, e.g. ["nginx"] or ["nginx", "-c", "/etc/nginx/nginx.conf"]. */
  readonly nginx: readonly string[];
  readonly listen: readonly string[];
}

export function hostLayout(settings: NginxSettings): HostLayout {
  return {
    dir: settings.dir,
    include: settings.include,
    nginx: settings.config === undefined ? ["nginx"] : ["nginx", "-c", settings.config],
    listen: settings.listen,
  };
}

export const sitesDir = (layout: HostLayout): string => `${layout.dir}/sites`;
export const lockFile = (layout: HostLayout): string => `${layout.dir}/lock`;
/**
 * Present while nginx may run an older config than the files: every change sets it, a reload
 * clears it.
 */
export const reloadFlag = (layout: HostLayout): string => `${layout.dir}/reload-pending`;
/** While a file is swapped in and tested: its live path, and a copy of what it replaced. */
const journal = (layout: HostLayout): string => `${layout.dir}/pending`;
const journalCopy = (layout: HostLayout): string => `${layout.dir}/pending.prev`;

/** Tools a host must have before any tenant lands on it, with what to install. */
const REQUIRED_TOOLS = [
  ["docker", "install docker.io, or docker-ce from Docker"],
  ["iptables", "install iptables"],
  ["flock", "install util-linux"],
  ["cmp", "install diffutils"],
] as const;

/**
 * Shared prelude: strict mode, a scratch dir removed on exit, the host lock (every tenantry
 * script on a host runs one at a time, so two tenants never see each other's half-written
 * files), helpers around `nginx -t`, and the roll-back of a file a killed run left untested.
 * Every step that changes a file is its own command or ends in `|| fail`: `set -e` does not stop
 * inside an AND list, and a full disk must fail the script, not report success.
 */
export function prelude(layout: HostLayout): Shell[] {
  const nginx = layout.nginx;
  const lock = lockFile(layout);
  return [
    raw("set -eu"),
    raw("umask 022"),
    raw("# Run before failing: a script that moved something aside puts it back here."),
    raw("on_fail() { :; }"),
    raw('fail() { on_fail; printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    raw('work=$(mktemp -d) || fail "cannot create a temporary directory"'),
    raw(`trap 'rm -rf "$work"' EXIT`),
    sh`mkdir -p ${sitesDir(layout)} || fail ${"cannot create " + sitesDir(layout)}`,
    raw("# The lock belongs to root alone: a file others can open is a lock others can hold."),
    sh`(umask 077 && : >>${lock}) || fail ${"cannot create the lock " + lock}`,
    sh`chmod 0600 ${lock}`,
    sh`exec 9>>${lock}`,
    sh`flock -w 300 9 || fail ${"timed out after 300s waiting for the lock " + lock}`,
    raw(
      "# Problem lines ([warn] and worse) of nginx output $1, without the time and pid that Debian nginx puts first: they differ on every run.",
    ),
    raw(
      String.raw`nginx_problems() { sed -e 's|^[0-9/]* [0-9:]* \[\([a-z]*\)\] [0-9]*#[0-9]*: |[\1] |' -e 's|^nginx: \[|[|' "$1" | grep -F -e '[warn]' -e '[error]' -e '[crit]' -e '[alert]' -e '[emerg]' || true; }`,
    ),
    raw("# nginx -t; its problem lines go to $1, its whole output to $1.out."),
    sh`nginx_test() { if ${nginx} -t >"$1.out" 2>&1; then rc=0; else rc=$?; fi; nginx_problems "$1.out" >"$1"; return "$rc"; }`,
    raw("# Succeeds when nginx -t passes and reports no problem line that $1 (before) lacks."),
    raw(
      'nginx_accepts() { nginx_test "$work/after" || return 1; if grep -F -x -v -f "$1" "$work/after" >"$work/new"; then return 1; fi; return 0; }',
    ),
    raw("# Succeeds when the effective config (nginx -T) reads file $1: a file nginx never"),
    raw("# includes passes nginx -t too, and would be installed but not live."),
    sh`nginx_loads() { ${nginx} -T 2>/dev/null | grep -q -x -F "# configuration file $1:"; }`,
    raw("# The pid file of the nginx master, as its config (or its build) names it."),
    sh`run_nginx() { ${nginx} "$@"; }`,
    raw(
      String.raw`nginx_pidfile() { pf=$(run_nginx -T 2>/dev/null | sed -n 's/^[[:space:]]*pid[[:space:]][[:space:]]*\([^;]*\);.*/\1/p' | head -n 1); if [ -z "$pf" ]; then pf=$(run_nginx -V 2>&1 | sed -n 's/.*--pid-path=\([^ ]*\).*/\1/p'); fi; printf '%s\n' "${"$"}{pf:-/run/nginx.pid}"; }`,
    ),
    raw(
      'nginx_running() { pf=$(nginx_pidfile); [ -s "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null; }',
    ),
    raw(
      'require_running() { nginx_running || fail "nginx is not running on this host (start it: systemctl start nginx), so the change could not take effect; nothing was changed"; }',
    ),
    sh`nginx_reload() { ${nginx} -s reload >"$work/reload.out" 2>&1 || fail "nginx reload failed: $(cat "$work/reload.out")"; rm -f ${reloadFlag(layout)}; }`,
    sh`reload_pending() { if [ -f ${reloadFlag(layout)} ]; then nginx_test "$work/after" || fail "nginx -t fails; not reloading: $(cat "$work/after.out")"; nginx_reload; fi; }`,
    raw("# Writes file $2 from file $1 by a copy beside it and a rename, failing on a full disk."),
    raw(
      'replace_file() { cp -p "$1" "$2.tenantry-new" || { rm -f "$2.tenantry-new"; fail "cannot write $2 (disk full?)"; }; mv -f "$2.tenantry-new" "$2" || fail "cannot move $2 into place"; }',
    ),
    ...contentCheck(layout),
    raw("# Puts back the file the journal names: its previous version, or nothing if it had none."),
    sh`roll_back() { live=$(cat ${journal(layout)}); if [ -f ${journalCopy(layout)} ]; then replace_file ${journalCopy(layout)} "$live"; restored="the previous version is back"; else rm -f "$live"; restored="removed it"; fi; rm -f ${journal(layout)} ${journalCopy(layout)}; }`,
    sh`if [ -f ${journal(layout)} ]; then roll_back; printf 'tenantry: an interrupted run left %s untested; %s\\n' "$live" "$restored" >&2; fi`,
  ];
}

/**
 * The directives tenantry's nginx text uses (remote/nginx.ts, remote/maintenance.ts): a site
 * file from stdin may hold no other. nginx's master runs as root and opens what its config
 * names (`access_log /etc/...` would append to any file as root), so the site text is checked
 * as data: these directives only, every file path in tenantry's nginx directory or certbot's
 * live tree, every upstream on loopback.
 */
export const SITE_DIRECTIVES = [
  "server",
  "listen",
  "server_name",
  "client_max_body_size",
  "location",
  "proxy_pass",
  "proxy_http_version",
  "proxy_set_header",
  "proxy_read_timeout",
  "root",
  "default_type",
  "charset",
  "include",
  "add_header",
  "if",
  "return",
  "error_page",
  "rewrite",
  "ssl_certificate",
  "ssl_certificate_key",
  "ssl_trusted_certificate",
  "ssl_protocols",
  "ssl_ciphers",
  "ssl_prefer_server_ciphers",
  "ssl_session_cache",
  "ssl_session_timeout",
  "ssl_session_tickets",
  "ssl_stapling",
  "ssl_stapling_verify",
] as const;

/** What the host include adds (remote/nginx.ts renderHostInclude): the map and the catch-all. */
const INCLUDE_DIRECTIVES = ["map", "default", "''", "ssl_reject_handshake"];

/** Directives whose first argument is a file or directory nginx opens. */
const PATH_DIRECTIVES = [
  "include",
  "root",
  "ssl_certificate",
  "ssl_certificate_key",
  "ssl_trusted_certificate",
];

/**
 * `site_text_ok FILE [1]`: fails, naming the first offence, unless FILE is nginx text of the
 * directives above (with 1, the host include's too). Statements are split at every ";", "{" and "}", quoted or not, so no
 * statement nginx reads escapes the check; a "#" is allowed only where a line starts with it,
 * so no comment hides one either.
 */
function contentCheck(layout: HostLayout): Shell[] {
  const awk = [
    'BEGIN { RS = "[;{}]" }',
    '{ n = split($0, w, /[ \\t\\r\\n]+/); i = 1; while (i <= n && w[i] == "") i++; if (i > n) next; d = w[i]; a = w[i + 1]',
    `  if (d !~ /^(${SITE_DIRECTIVES.join("|")})$/ && (include != 1 || d !~ /^(${INCLUDE_DIRECTIVES.join("|")})$/)) { print "the directive " d; exit }`,
    `  if (d ~ /^(${PATH_DIRECTIVES.join("|")})$/ && (a ~ /(^|\\/)\\.\\.?(\\/|$)/ || (index(a, dir "/") != 1 && index(a, "/etc/letsencrypt/live/") != 1))) { print d " " a " (outside " dir " and /etc/letsencrypt/live)"; exit }`,
    '  if (d == "proxy_pass" && a !~ /^http:\\/\\/127\\.[0-9]+\\.[0-9]+\\.[0-9]+:[0-9]+$/) { print "proxy_pass " a " (not a loopback address)"; exit } }',
  ].join("\n");
  return [
    raw(
      "# site_text_ok FILE [1]: only the nginx directives tenantry writes (SITE_DIRECTIVES; with 1, the host include's too).",
    ),
    raw("site_text_ok() {"),
    raw(
      `  if grep -v -E '^[[:space:]]*#' "$1" | grep -q -F '#'; then fail "refusing $1 from stdin: a '#' that does not start a line"; fi`,
    ),
    sh`  bad=$(grep -v -E '^[[:space:]]*#' "$1" | awk -v dir=${layout.dir} -v include="\${2:-0}" ${awk})`,
    raw(
      '  if [ -n "$bad" ]; then fail "refusing the nginx text from stdin: $bad is not what tenantry writes; nothing was changed"; fi',
    ),
    raw("}"),
  ];
}

/**
 * Records whether the current config passes `nginx -t`, and its problem lines in $work/before.
 * A host that already fails can still take a change that makes it pass (the next apply repairs
 * what a hand edit or a killed run broke); nothing that makes it worse gets in.
 */
export function baseline(): Shell {
  return raw('broken_before=0; nginx_test "$work/before" || broken_before=1');
}

/**
 * Atomic file replacement with rollback: $1 is the new content, $2 the live path. The journal
 * names the file while it is live but untested, so a run killed in between is rolled back by
 * the next one. Restores (or removes) and fails with nginx's words if the result is rejected,
 * including new warnings (a duplicate server_name is only a warning, and then one tenant's
 * domain silently serves another's site), or if nginx does not load the file at all.
 */
export function installFunction(layout: HostLayout): Shell[] {
  const pending = journal(layout);
  return [
    raw("install_checked() {"),
    sh`  rm -f ${journalCopy(layout)}`,
    sh`  if [ -f "$2" ]; then cp -p "$2" ${journalCopy(layout)} || fail "cannot keep a copy of $2 (disk full?)"; fi`,
    sh`  printf '%s' "$2" >${pending}.new || { rm -f ${pending}.new; fail "cannot write the journal (disk full?)"; }`,
    sh`  mv -f ${pending}.new ${pending} || fail "cannot write the journal"`,
    raw(
      "  # The new content beside the live file first: if that fails (a full disk), nothing changed.",
    ),
    sh`  if ! cp -p "$1" "$2.tenantry-new"; then rm -f "$2.tenantry-new" ${pending} ${journalCopy(layout)}; fail "cannot write $2 (disk full?); nothing was changed"; fi`,
    raw('  mv -f "$2.tenantry-new" "$2" || fail "cannot move $2 into place"'),
    sh`  if nginx_accepts "$work/before"; then`,
    raw('    if nginx_loads "$2"; then'),
    sh`      rm -f ${pending} ${journalCopy(layout)}; return 0`,
    raw("    fi"),
    raw("    roll_back"),
    raw(
      '    fail "nginx -t passes but nginx does not read $2 (its http block must include it); $restored"',
    ),
    raw("  fi"),
    raw("  roll_back"),
    raw(
      '  if [ -s "$work/new" ]; then problems=$(cat "$work/new"); else problems=$(cat "$work/after.out"); fi',
    ),
    raw(
      '  if [ "$broken_before" = 1 ]; then problems="nginx -t already failed before this change: $problems"; fi',
    ),
    raw(
      '  fail "nginx rejected $2; $restored and nginx keeps running without the change: $problems"',
    ),
    raw("}"),
  ];
}

/**
 * Installs a tenant's site from stdin. Unchanged content is a no-op (no test, no reload). A
 * change is tested and, when accepted, flags the host for the one reload its reload step does
 * after all sites of this apply are in place.
 */
export function siteInstallScript(
  layout: HostLayout,
  tenant: string,
  options: { readonly reloadNow?: boolean } = {},
): Shell {
  const site = `${sitesDir(layout)}/${siteFileName(tenant)}`;
  return script(
    prelude(layout),
    installFunction(layout),
    raw('cat >"$work/site" || fail "cannot read the site config from stdin (disk full?)"'),
    sh`[ -s "$work/site" ] || fail ${`no site config for ${tenant} on stdin`}`,
    raw('site_text_ok "$work/site"'),
    sh`if [ -f ${site} ] && cmp -s "$work/site" ${site}; then echo ${`tenantry: site ${tenant} unchanged`}; exit 0; fi`,
    domainMoveGuard(layout, site),
    // A rolling switch goes live in this step, before the engine deletes the old container.
    options.reloadNow === true ? raw("require_running") : [],
    baseline(),
    sh`install_checked "$work/site" ${site}`,
    sh`: >${reloadFlag(layout)} || fail "cannot flag the reload (disk full?)"`,
    options.reloadNow === true
      ? [raw("nginx_reload"), sh`echo ${`tenantry: site ${tenant} installed; nginx reloaded`}`]
      : sh`echo ${`tenantry: site ${tenant} installed; nginx reloads once in the host reload step`}`,
  );
}

/**
 * Refuses a domain that another site on the host still serves (a site file with another owner
 * marker): nginx would only warn and serve it from the first file. That is a domain moved from
 * one tenant to another in one edit while the other tenant's site still has it; the move takes
 * two applies, and the message says so. The tenant's own files (its HTTPS server) share its marker.
 */
function domainMoveGuard(layout: HostLayout, site: string): Shell[] {
  const names = String.raw`sed -n 's/^[[:space:]]*server_name[[:space:]]\{1,\}\(.*\);$/\1/p'`;
  return [
    raw('own=$(head -n 1 "$work/site")'),
    raw("# shellcheck disable=SC2013 # server_name holds one domain per word"),
    raw(`for name in $(${names} "$work/site"); do`),
    sh`  for other in ${sitesDir(layout)}/*.conf; do`,
    sh`    if [ ! -f "$other" ] || [ "$other" = ${site} ]; then continue; fi`,
    raw('    if [ "$(head -n 1 "$other")" = "$own" ]; then continue; fi'),
    raw(`    if ${names} "$other" | tr ' ' '\\n' | grep -q -x -F "$name"; then`),
    raw(
      '      fail "$name is still served by $other ($(head -n 1 "$other" | sed "s/^# //")): a domain moves between tenants in two applies: remove it from the tenant that has it and run pulumi up, then add it to this one and run pulumi up again"',
    ),
    raw("    fi"),
    raw("  done"),
    raw("done"),
  ];
}

/**
 * Removes a tenant's site and reloads. Only removes a file that still carries this resource's
 * marker: a replacement writes its own marker first, and must survive the old resource's delete.
 * Succeeds when the site is already gone; with nginx stopped it fails before moving anything.
 */
export function siteRemoveScript(layout: HostLayout, tenant: string, marker: string): Shell {
  const site = `${sitesDir(layout)}/${siteFileName(tenant)}`;
  const removed = `${sitesDir(layout)}/.${siteFileName(tenant)}.removed`;
  return script(
    prelude(layout),
    sh`if [ ! -f ${site} ]; then echo ${`tenantry: site ${tenant} already gone`}; exit 0; fi`,
    sh`if ! grep -q -x -F ${markerLine(marker)} ${site}; then echo ${`tenantry: ${site} now belongs to a newer deployment; left in place`}; exit 0; fi`,
    raw("require_running"),
    raw("# Flag first: if this run dies after the move, the next reload still drops the site."),
    sh`: >${reloadFlag(layout)} || fail "cannot flag the reload (disk full?)"`,
    sh`mv -f ${site} ${removed}`,
    sh`on_fail() { mv -f ${removed} ${site}; }`,
    sh`if ! nginx_test "$work/after"; then fail "nginx -t fails without the site; restored it: $(cat "$work/after.out")"; fi`,
    raw("nginx_reload"),
    raw("on_fail() { :; }"),
    sh`rm -f ${removed}`,
    sh`echo ${`tenantry: site ${tenant} removed`}`,
  );
}

/**
 * The host's one reload per apply: runs after every tenant's site step and reloads nginx if
 * anything changed since the last reload (the flag every change leaves), then clears the flag.
 */
export function hostReloadScript(layout: HostLayout): Shell {
  return script(
    prelude(layout),
    sh`if [ ! -f ${reloadFlag(layout)} ]; then echo "tenantry: no site changed; nginx not reloaded"; exit 0; fi`,
    raw("require_running"),
    raw("reload_pending"),
    raw('echo "tenantry: nginx reloaded"'),
  );
}

/**
 * What runs as the SSH user before anything runs as root: the tools a host needs (each missing
 * one named with what to install) and a docker daemon this user may use. The Docker provider
 * connects as this user (`ssh ... docker system dial-stdio`), so a check run through sudo would
 * pass for a user outside the docker group and the apply would fail later, at the first image.
 */
export function hostPreflightScript(layout: HostLayout, host: string, user: string): Shell {
  const tools: Array<readonly [string, string]> = [
    [layout.nginx[0] ?? "nginx", "install nginx or nginx-light"],
    ...REQUIRED_TOOLS,
  ];
  const noAccess = `tenantry: host ${host}: user ${user} may not use the docker daemon; as root run: usermod -aG docker ${user} (the Docker connection logs in as ${user}), then run pulumi up again`;
  const noDaemon = `tenantry: host ${host}: docker is installed but its daemon does not answer (start it: systemctl enable --now docker)`;
  return script(
    raw("set -eu"),
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw('missing=""'),
    tools.map(
      ([tool, hint]) =>
        sh`command -v ${tool} >/dev/null 2>&1 || missing="$missing"${` ${tool} (${hint});`}`,
    ),
    sh`if [ -n "$missing" ]; then printf 'tenantry: host %s is missing:%s then run pulumi up again\\n' ${host} "$missing" >&2; exit 1; fi`,
    raw("# `docker info` prints its errors on stdout and exits 1 either way; `version` says why."),
    raw("if ! out=$(docker version --format '{{.Server.Version}}' 2>&1 >/dev/null); then"),
    sh`  case "$out" in *"permission denied"*) printf '%s (%s)\\n' ${noAccess} "$out" >&2 ;; *) printf '%s\\n' ${noDaemon} >&2 ;; esac`,
    raw("  exit 1"),
    raw("fi"),
  );
}

/**
 * A constant script (no manifest value in it), installed on the host and run by the bootstrap
 * and by Docker's systemd unit after every start: nothing reaches a container through a Docker
 * bridge unless it answers a connection the container opened, comes from a container, or was
 * DNATed by a port someone published on purpose. Docker before 28 accepts any forwarded packet
 * to a container's bridge address, so a LAN neighbour routing 172.16.0.0/12 via the host would
 * skip nginx; DOCKER-USER is the chain Docker reserves for such rules and never flushes (its
 * FORWARD chain jumps there first). Prints "changed" when it had to (re)write the rules.
 */
export const ISOLATION_CHAIN = "TENANTRY-ISOLATION";

/** The rules of the isolation chain, as `iptables -S` prints them (compared on every run). */
export const ISOLATION_RULES = [
  `-A ${ISOLATION_CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
  `-A ${ISOLATION_CHAIN} -m conntrack --ctstate DNAT -j RETURN`,
  `-A ${ISOLATION_CHAIN} -i docker0 -j RETURN`,
  `-A ${ISOLATION_CHAIN} -i br-+ -j RETURN`,
  `-A ${ISOLATION_CHAIN} -o docker0 -j DROP`,
  `-A ${ISOLATION_CHAIN} -o br-+ -j DROP`,
] as const;

/** Where the bootstrap installs the isolation script and Docker's systemd drop-in. */
export const ISOLATION_SCRIPT = "/usr/local/lib/tenantry/docker-isolation";
export const DOCKER_DROP_IN = "/etc/systemd/system/docker.service.d/tenantry.conf";

export function isolationScript(): Shell {
  const chain = ISOLATION_CHAIN;
  const expected = [`-N ${chain}`, ...ISOLATION_RULES].join("\n");
  return script(
    raw("#!/bin/sh"),
    raw("# Installed by the tenantry bootstrap: nginx stays the only way into a container."),
    raw("set -eu"),
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("changed=0"),
    raw("expected=$(cat <<EOF"),
    raw(expected),
    raw("EOF"),
    raw(")"),
    sh`if [ "$(iptables -w -S ${chain} 2>/dev/null || true)" != "$expected" ]; then`,
    sh`  iptables -w -N ${chain} 2>/dev/null || true`,
    sh`  iptables -w -F ${chain}`,
    ISOLATION_RULES.map((rule) => sh`  iptables -w ${rule.split(" ")}`),
    raw("  changed=1"),
    raw("fi"),
    raw("# Docker creates DOCKER-USER at start; before that, make it so the jump has a home."),
    raw("iptables -w -N DOCKER-USER 2>/dev/null || true"),
    sh`if ! iptables -w -C DOCKER-USER -j ${chain} 2>/dev/null; then iptables -w -I DOCKER-USER 1 -j ${chain}; changed=1; fi`,
    raw('if [ "$changed" = 1 ]; then echo changed; fi'),
  );
}

/** Docker's systemd drop-in: the rule again after every start of dockerd (and so every boot). */
export function dockerDropIn(): string {
  return [
    "# Installed by tenantry: re-applies the rule that keeps containers reachable only through",
    "# nginx (iptables rules do not survive a reboot).",
    "[Service]",
    `ExecStartPost=${ISOLATION_SCRIPT}`,
    "",
  ].join("\n");
}

/** The path and md5 Debian's nginx-common records for its stock default site. */
const STOCK_DEFAULT_SITE = "/etc/nginx/sites-enabled/default";

/**
 * Prepares a host once (as root; run after `hostPreflightScript` as the SSH user): creates
 * tenantry's directories, makes its catch-all the default server (disabling Debian's stock
 * default site, kept under the tenantry dir; a default site that is not the stock file is never
 * touched), installs the host include from stdin and checks nginx loads it, installs the
 * container isolation rule and its systemd drop-in, and starts or reloads nginx as needed.
 */
export function hostBootstrapScript(layout: HostLayout, host: string): Shell {
  const disabled = `${layout.dir}/disabled-default-site`;
  const notStock = `a default server other than the stock Debian site is enabled in ${STOCK_DEFAULT_SITE}; the tenantry catch-all must be the default server (it closes connections for unknown names): remove default_server there, or disable the site`;
  return script(
    prelude(layout),
    installFunction(layout),
    raw('cat >"$work/include" || fail "cannot read the include from stdin (disk full?)"'),
    raw('site_text_ok "$work/include" 1'),
    raw("changed=0"),
    raw("# The stock Debian default site claims default_server on :80; the catch-all must."),
    raw("# Decided before anything changes: a default site that is not the stock file stops here."),
    raw("disable_default=0"),
    sh`if [ -e ${STOCK_DEFAULT_SITE} ] && grep -q default_server ${STOCK_DEFAULT_SITE}; then`,
    raw(
      "  stock=$(dpkg-query -W -f='${Conffiles}' nginx-common 2>/dev/null | awk '$1 == \"/etc/nginx/sites-available/default\" { print $2 }' || true)",
    ),
    sh`  if [ -z "$stock" ] || [ "$(md5sum <${STOCK_DEFAULT_SITE} | cut -d ' ' -f 1)" != "$stock" ]; then fail ${notStock}; fi`,
    raw("  disable_default=1"),
    raw("fi"),
    raw(
      "# Nothing but nginx reaches a container: the isolation rule, and its drop-in for reboots.",
    ),
    raw(
      "# shellcheck disable=SC2016 # the text of the script, written as data, expands on the host later",
    ),
    sh`printf '%s' ${isolationScript().text} >"$work/isolation" || fail "cannot write the isolation script (disk full?)"`,
    sh`mkdir -p "$(dirname ${ISOLATION_SCRIPT})" "$(dirname ${DOCKER_DROP_IN})"`,
    sh`if ! cmp -s "$work/isolation" ${ISOLATION_SCRIPT}; then chmod 0755 "$work/isolation"; replace_file "$work/isolation" ${ISOLATION_SCRIPT}; fi`,
    sh`printf '%s' ${dockerDropIn()} >"$work/dropin" || fail "cannot write the docker drop-in (disk full?)"`,
    sh`if ! cmp -s "$work/dropin" ${DOCKER_DROP_IN}; then replace_file "$work/dropin" ${DOCKER_DROP_IN}; if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; fi`,
    sh`isolation=$(${ISOLATION_SCRIPT} 2>&1) || fail "the container isolation rule failed: $isolation"`,
    sh`if [ -n "$isolation" ]; then firewall=1; echo ${`tenantry: host ${host}: containers now reachable only through nginx (${ISOLATION_CHAIN} in DOCKER-USER)`}; else firewall=0; fi`,
    sh`include_same=0; if [ -f ${layout.include} ] && cmp -s "$work/include" ${layout.include}; then include_same=1; fi`,
    baseline(),
    raw('if [ "$disable_default" = 1 ]; then'),
    sh`  mv -f ${STOCK_DEFAULT_SITE} ${disabled}`,
    sh`  on_fail() { mv -f ${disabled} ${STOCK_DEFAULT_SITE}; }`,
    sh`  changed=1; echo ${`tenantry: host ${host}: disabled the stock Debian default site (kept as ${disabled})`}`,
    raw("fi"),
    sh`mkdir -p "$(dirname ${layout.include})"`,
    sh`if [ "$include_same" = 0 ] || [ "$changed" = 1 ]; then install_checked "$work/include" ${layout.include}; changed=1; fi`,
    sh`nginx_loads ${layout.include} || fail ${`nginx does not read ${layout.include}; its http block must include it (the Debian nginx.conf includes /etc/nginx/conf.d/*.conf)`}`,
    raw("on_fail() { :; }"),
    raw("if ! nginx_running; then"),
    sh`  if [ -d /run/systemd/system ]; then systemctl start nginx; else ${layout.nginx}; fi`,
    sh`  rm -f ${reloadFlag(layout)}`,
    sh`  echo ${`tenantry: host ${host}: started nginx`}`,
    raw('elif [ "$changed" = 1 ]; then'),
    sh`  : >${reloadFlag(layout)}`,
    raw("  nginx_reload"),
    raw("fi"),
    sh`if [ "$changed" = 1 ] || [ "$firewall" = 1 ]; then echo ${`tenantry: host ${host} ready`}; else echo ${`tenantry: host ${host} ready (unchanged)`}; fi`,
  );
}

/** The nginx settings an operation takes: its DIR, INCLUDE and CONFIG arguments. */
export const NGINX_PARAMS = {
  dir: {
    name: "dir",
    pattern: `${NGINX_ROOT}${PATTERNS.path}`,
    deny: `${PATTERNS.dotSegment}|^${NGINX_ROOT}/(${NGINX_OWN_DIRS.join("|")})(/|$)`,
    what: `tenantry's own directory under ${NGINX_ROOT} (hosts.*.nginx.dir)`,
  },
  include: {
    name: "include",
    pattern: `${NGINX_ROOT}${PATTERNS.path}\\.conf`,
    deny: `${PATTERNS.dotSegment}|^${NGINX_ROOT}/(${NGINX_OWN_FILES.join("|")})$|^${NGINX_ROOT}/modules-`,
    what: `a .conf file under ${NGINX_ROOT} that nginx includes (hosts.*.nginx.include)`,
  },
  config: {
    name: "config",
    pattern: `${NGINX_ROOT}${PATTERNS.path}\\.conf`,
    deny: `${PATTERNS.dotSegment}|^${NGINX_ROOT}/modules-`,
    optional: true,
    what: `nginx's main config, a .conf file under ${NGINX_ROOT}, or empty (hosts.*.nginx.config)`,
  },
} satisfies Record<string, OperationParam>;

/** The layout inside an operation's body: the entry point's DIR and INCLUDE, its nginx_cmd. */
export const OPERATION_LAYOUT: HostLayout = {
  dir: argValue("dir"),
  include: argValue("include"),
  nginx: ["nginx_cmd"],
  listen: [],
};

/** The DIR INCLUDE CONFIG arguments of a host's layout. */
export function layoutArgs(layout: HostLayout): string[] {
  const config = layout.nginx[1] === "-c" ? (layout.nginx[2] ?? "") : "";
  return [layout.dir, layout.include, config];
}

/** The DIR INCLUDE CONFIG arguments, and the other arguments several operations take. */
export const LAYOUT_PARAMS = [NGINX_PARAMS.dir, NGINX_PARAMS.include, NGINX_PARAMS.config];
export const TENANT_PARAM: OperationParam = {
  name: "tenant",
  pattern: PATTERNS.name,
  what: "a tenant name",
};
export const HOST_PARAM: OperationParam = {
  name: "host",
  pattern: PATTERNS.name,
  what: "a host name",
};
export const MARKER_PARAM: OperationParam = {
  name: "marker",
  pattern: `${PATTERNS.name}@${PATTERNS.name}`,
  what: "a site marker (tenant@host)",
};

export const BOOTSTRAP: RootOperation = {
  name: "bootstrap",
  summary: "prepares nginx and the container isolation rule; the include on stdin",
  params: [
    { name: "version", pattern: "[0-9a-f]{16}", what: "an entry point version" },
    ...LAYOUT_PARAMS,
    HOST_PARAM,
  ],
  body: () =>
    script(
      raw("# The tenantry that calls is the one this entry point came with, or nothing changes."),
      raw('if [ "$a_version" != "$version" ]; then'),
      sh`  printf ${'tenantry: this host\'s %s is version %s and this tenantry needs version %s: as root, install the entry point again (README, "Preparing a host"), then run again\\n'} "$0" "$version" "$a_version" >&2`,
      raw("  exit 1"),
      raw("fi"),
      hostBootstrapScript(OPERATION_LAYOUT, argValue("host")),
    ),
};

export const SITE_INSTALL: RootOperation = {
  name: "site-install",
  summary: "installs a tenant's site from stdin; the host reload step reloads nginx",
  params: [...LAYOUT_PARAMS, TENANT_PARAM],
  body: () => siteInstallScript(OPERATION_LAYOUT, argValue("tenant")),
};

export const SITE_INSTALL_NOW: RootOperation = {
  name: "site-install-now",
  summary: "installs a tenant's site from stdin and reloads nginx (a rolling switch)",
  params: [...LAYOUT_PARAMS, TENANT_PARAM],
  body: () => siteInstallScript(OPERATION_LAYOUT, argValue("tenant"), { reloadNow: true }),
};

export const SITE_REMOVE: RootOperation = {
  name: "site-remove",
  summary: "removes a tenant's site if it still carries MARKER, and reloads nginx",
  params: [...LAYOUT_PARAMS, TENANT_PARAM, MARKER_PARAM],
  body: () => siteRemoveScript(OPERATION_LAYOUT, argValue("tenant"), argValue("marker")),
};

export const HOST_RELOAD: RootOperation = {
  name: "reload",
  summary: "reloads nginx if a site changed since the last reload",
  params: LAYOUT_PARAMS,
  body: () => hostReloadScript(OPERATION_LAYOUT),
};

export const NGINX_OPERATIONS = [
  BOOTSTRAP,
  SITE_INSTALL,
  SITE_INSTALL_NOW,
  SITE_REMOVE,
  HOST_RELOAD,
];

/** The command text that installs a tenant's site (stdin: the site). */
export function siteInstallCommand(
  user: string,
  layout: HostLayout,
  tenant: string,
  options: { readonly reloadNow?: boolean } = {},
): string {
  const op = options.reloadNow === true ? SITE_INSTALL_NOW : SITE_INSTALL;
  return asRoot(user, op, [...layoutArgs(layout), tenant]);
}

export function siteRemoveCommand(
  user: string,
  layout: HostLayout,
  tenant: string,
  marker: string,
): string {
  return asRoot(user, SITE_REMOVE, [...layoutArgs(layout), tenant, marker]);
}

export function hostReloadCommand(user: string, layout: HostLayout): string {
  return asRoot(user, HOST_RELOAD, layoutArgs(layout));
}

/**
 * The bootstrap's command text: the preflight as the SSH user, then the bootstrap as root,
 * which first checks that the host's entry point is the `version` this tenantry ships.
 */
export function hostBootstrapCommand(
  layout: HostLayout,
  host: string,
  user: string,
  version: string,
): string {
  const preflight = sh`/bin/sh -c ${hostPreflightScript(layout, host, user).text} tenantry-preflight`;
  return `${preflight.text} && ${asRoot(user, BOOTSTRAP, [version, ...layoutArgs(layout), host])}`;
}
