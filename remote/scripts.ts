// Pure: the shell that runs on a host over SSH. Every value goes through `sh` (shell.ts); the
// scripts are idempotent, serialise on a host-side lock and never leave nginx on a config that
// fails `nginx -t`. File contents travel on stdin, never in the command text.
import { siteFileName } from "../core/names";
import { markerLine } from "./nginx";
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
const lockFile = (layout: HostLayout): string => `${layout.dir}/lock`;
/**
 * Present while nginx may run an older config than the files: every change sets it, a reload
 * clears it.
 */
const reloadFlag = (layout: HostLayout): string => `${layout.dir}/reload-pending`;
/** While a file is swapped in and tested: its live path, and a copy of what it replaced. */
const journal = (layout: HostLayout): string => `${layout.dir}/pending`;
const journalCopy = (layout: HostLayout): string => `${layout.dir}/pending.prev`;

/** Tools a host must have before any tenant lands on it, with what to install. */
const REQUIRED_TOOLS = [
  ["docker", "install docker.io, or docker-ce from Docker"],
  ["flock", "install util-linux"],
  ["cmp", "install diffutils"],
] as const;

/**
 * Shared prelude: strict mode, a scratch dir removed on exit, the host lock (every tenantry
 * script on a host runs one at a time, so two tenants never see each other's half-written
 * files), helpers around `nginx -t`, and the roll-back of a file a killed run left untested.
 */
function prelude(layout: HostLayout): Shell[] {
  const nginx = layout.nginx;
  return [
    raw("set -eu"),
    raw("umask 022"),
    raw('fail() { printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    raw('work=$(mktemp -d) || fail "cannot create a temporary directory"'),
    raw(`trap 'rm -rf "$work"' EXIT`),
    sh`mkdir -p ${sitesDir(layout)}`,
    sh`exec 9>>${lockFile(layout)}`,
    sh`flock -w 300 9 || fail ${"timed out after 300s waiting for the lock " + lockFile(layout)}`,
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
    sh`nginx_reload() { ${nginx} -s reload >"$work/reload.out" 2>&1 || fail "nginx reload failed: $(cat "$work/reload.out")"; rm -f ${reloadFlag(layout)}; }`,
    sh`reload_pending() { if [ -f ${reloadFlag(layout)} ]; then nginx_test "$work/after" || fail "nginx -t fails; not reloading: $(cat "$work/after.out")"; nginx_reload; fi; }`,
    raw("# Puts back the file the journal names: its previous version, or nothing if it had none."),
    sh`roll_back() { live=$(cat ${journal(layout)}); if [ -f ${journalCopy(layout)} ]; then cp -p ${journalCopy(layout)} "$live.tenantry-new" && mv -f "$live.tenantry-new" "$live"; restored="the previous version is back"; else rm -f "$live"; restored="removed it"; fi; rm -f ${journal(layout)} ${journalCopy(layout)}; }`,
    sh`if [ -f ${journal(layout)} ]; then roll_back; printf 'tenantry: an interrupted run left %s untested; %s\\n' "$live" "$restored" >&2; fi`,
  ];
}

/**
 * Records whether the current config passes `nginx -t`, and its problem lines in $work/before.
 * A host that already fails can still take a change that makes it pass (the next apply repairs
 * what a hand edit or a killed run broke); nothing that makes it worse gets in.
 */
function baseline(): Shell {
  return raw('broken_before=0; nginx_test "$work/before" || broken_before=1');
}

/**
 * Atomic file replacement with rollback: $1 is the new content, $2 the live path. The journal
 * names the file while it is live but untested, so a run killed in between is rolled back by
 * the next one. Restores (or removes) and fails with nginx's words if the result is rejected,
 * including new warnings (a duplicate server_name is only a warning, and then one tenant's
 * domain silently serves another's site).
 */
function installFunction(layout: HostLayout): Shell[] {
  return [
    raw("install_checked() {"),
    sh`  rm -f ${journalCopy(layout)}; if [ -f "$2" ]; then cp -p "$2" ${journalCopy(layout)}; fi`,
    sh`  printf '%s' "$2" >${journal(layout)}.new && mv -f ${journal(layout)}.new ${journal(layout)}`,
    raw('  cp "$1" "$2.tenantry-new" && mv -f "$2.tenantry-new" "$2"'),
    sh`  if nginx_accepts "$work/before"; then rm -f ${journal(layout)} ${journalCopy(layout)}; return 0; fi`,
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
export function siteInstallScript(layout: HostLayout, tenant: string): Shell {
  const site = `${sitesDir(layout)}/${siteFileName(tenant)}`;
  return script(
    prelude(layout),
    installFunction(layout),
    raw('cat >"$work/site"'),
    sh`[ -s "$work/site" ] || fail ${`no site config for ${tenant} on stdin`}`,
    sh`if [ -f ${site} ] && cmp -s "$work/site" ${site}; then echo ${`tenantry: site ${tenant} unchanged`}; exit 0; fi`,
    baseline(),
    sh`install_checked "$work/site" ${site}`,
    sh`: >${reloadFlag(layout)}`,
    sh`echo ${`tenantry: site ${tenant} installed; nginx reloads once in the host reload step`}`,
  );
}

/**
 * Removes a tenant's site and reloads. Only removes a file that still carries this resource's
 * marker: a replacement writes its own marker first, and must survive the old resource's delete.
 * Succeeds when the site is already gone.
 */
export function siteRemoveScript(layout: HostLayout, tenant: string, marker: string): Shell {
  const site = `${sitesDir(layout)}/${siteFileName(tenant)}`;
  const removed = `${sitesDir(layout)}/.${siteFileName(tenant)}.removed`;
  return script(
    prelude(layout),
    sh`if [ ! -f ${site} ]; then echo ${`tenantry: site ${tenant} already gone`}; exit 0; fi`,
    sh`if ! grep -q -x -F ${markerLine(marker)} ${site}; then echo ${`tenantry: ${site} now belongs to a newer deployment; left in place`}; exit 0; fi`,
    raw("# Flag first: if this run dies after the move, the next reload still drops the site."),
    sh`: >${reloadFlag(layout)}`,
    sh`mv -f ${site} ${removed}`,
    sh`if ! nginx_test "$work/after"; then mv -f ${removed} ${site}; fail "nginx -t fails without the site; restored it: $(cat "$work/after.out")"; fi`,
    raw("nginx_reload"),
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
    raw("reload_pending"),
    raw('echo "tenantry: nginx reloaded"'),
  );
}

/**
 * Prepares a host once: checks the tools tenantry needs (naming each missing one and what to
 * install), creates its directories and installs the host include from stdin (catch-all
 * server + sites), reloading nginx if that include changed.
 */
export function hostBootstrapScript(layout: HostLayout, host: string): Shell {
  const tools: Array<readonly [string, string]> = [
    [layout.nginx[0] ?? "nginx", "install nginx or nginx-light"],
    ...REQUIRED_TOOLS,
  ];
  return script(
    raw("set -eu"),
    raw('missing=""'),
    tools.map(
      ([tool, hint]) =>
        sh`command -v ${tool} >/dev/null 2>&1 || missing="$missing"${` ${tool} (${hint});`}`,
    ),
    sh`if [ -n "$missing" ]; then printf 'tenantry: host %s is missing:%s then run pulumi up again\\n' ${host} "$missing" >&2; exit 1; fi`,
    sh`docker info >/dev/null 2>&1 || { printf 'tenantry: host %s: docker is installed but its daemon does not answer (start it: systemctl enable --now docker)\\n' ${host} >&2; exit 1; }`,
    prelude(layout),
    installFunction(layout),
    raw('cat >"$work/include"'),
    sh`if [ -f ${layout.include} ] && cmp -s "$work/include" ${layout.include}; then echo ${`tenantry: host ${host} ready (unchanged)`}; exit 0; fi`,
    sh`mkdir -p "$(dirname ${layout.include})"`,
    baseline(),
    sh`install_checked "$work/include" ${layout.include}`,
    sh`: >${reloadFlag(layout)}`,
    raw("nginx_reload"),
    sh`echo ${`tenantry: host ${host} ready`}`,
  );
}

/**
 * The command text for a script: run by /bin/sh as root, through `sudo -n` for another user.
 * A user without passwordless sudo gets a message naming the sudoers line it needs.
 */
export function asRoot(user: string, body: Shell): string {
  if (user === "root") return sh`/bin/sh -c ${body.text}`.text;
  // The script and the hint are arguments ($1, $2) of a constant wrapper, so nothing is quoted twice.
  const wrapper = raw(
    'if sudo -n /bin/sh -c : 2>/dev/null; then exec sudo -n /bin/sh -c "$1"; fi; printf "%s\\n" "$2" >&2; exit 1',
  );
  return sh`/bin/sh -c ${wrapper.text} tenantry-sudo ${body.text} ${sudoHint(user)}`.text;
}

/** The sudoers line a non-root SSH user needs (documented in the README). */
export function sudoersLine(user: string): string {
  return `${user} ALL=(root) NOPASSWD: /bin/sh`;
}

function sudoHint(user: string): string {
  return `tenantry: user ${user} cannot run sudo without a password; add to /etc/sudoers.d/tenantry: ${sudoersLine(user)}`;
}
