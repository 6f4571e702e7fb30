// Pure: a tenant's backups on its host, with restic (Debian's package): deduplicated, encrypted
// with the tenant's key (a Pulumi secret shipped to a 0600 file), retention by
// `forget --prune --keep-*`. Each tenant gets a generated tool on its host that takes a backup,
// restores one, lists snapshots or purges the tenant's data; the host's nightly timer (or cron)
// and the `tenantry` CLI run that tool. Volumes are bind-mounted read-only under one staging path
// in a private mount namespace, so every snapshot has the same layout
// (`/run/tenantry/stage/volumes/<service>/<volume>`, `.../dumps/<service>`), whatever the tenant
// is called and wherever Docker keeps its volumes.
import {
  STAGE,
  STATE_DIR,
  STATUS_DIR,
  backupStatusFile,
  tenantStateDir,
  tenantTool,
  type BackupPlan,
} from "../plan/backup";
import { currentContainers } from "./containers";
import { raw, script, sh, type Shell } from "./shell";

/** restic's cache, shared by the host's tenants (it holds no plaintext: restic encrypts it). */
export const CACHE_DIR = `${STATE_DIR}/cache`;
/** restic's `--host` for every snapshot: retention groups by host and paths. */
export const SNAPSHOT_HOST = "tenantry";
/** The host-wide runner the timer starts: every scheduled tenant's backup, one after another. */
export const BACKUP_RUNNER = "/usr/local/lib/tenantry/backup-all";
export const BACKUP_UNIT = "tenantry-backup";
export const SYSTEMD_DIR = "/etc/systemd/system";
export const CRON_FILE = "/etc/cron.d/tenantry-backup";
/** Seconds a backup, restore or purge waits for another one of the same tenant. */
export const LOCK_WAIT_SECONDS = 3600;

/** Stdin frame names the backup setup accepts: the key, then offsite credentials. */
export const KEY_FRAME = "key";

/**
 * The setup command's stdin: one `NAME BASE64` line per secret (base64 keeps multi-line values
 * such as an SSH key on one line, and nothing in them is ever parsed by the shell).
 */
export function secretFrames(frames: Readonly<Record<string, string>>): string {
  return Object.entries(frames)
    .map(([name, value]) => `${name} ${Buffer.from(value, "utf8").toString("base64")}\n`)
    .join("");
}

/** The offsite repository as the tool calls it: a shell function `offsite` running restic. */
function offsiteFunction(plan: BackupPlan): Shell[] {
  const dir = tenantStateDir(plan.identity);
  const offsite = plan.offsite;
  if (offsite === undefined) {
    return [
      raw("has_offsite=0"),
      raw('offsite_url=""'),
      raw('offsite() { echo "tenantry: no offsite repository is configured" >&2; return 1; }'),
    ];
  }
  if (offsite.kind === "s3") {
    return [
      raw("has_offsite=1"),
      sh`offsite_url=${offsite.url}`,
      sh`offsite() { AWS_ACCESS_KEY_ID=$(cat ${`${dir}/offsite/AWS_ACCESS_KEY_ID`}) AWS_SECRET_ACCESS_KEY=$(cat ${`${dir}/offsite/AWS_SECRET_ACCESS_KEY`}) restic -r ${offsite.url} "$@"; }`,
    ];
  }
  // restic runs this ssh for the sftp backend; the server's key is pinned in its own file.
  const ssh = [
    "ssh",
    "-i",
    `${dir}/offsite/sshKey`,
    "-p",
    String(offsite.port),
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${dir}/offsite/known_hosts`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    `${offsite.user}@${offsite.address}`,
    "-s",
    "sftp",
  ].join(" ");
  return [
    raw("has_offsite=1"),
    sh`offsite_url=${offsite.url}`,
    sh`offsite() { restic -r ${offsite.url} -o ${`sftp.command=${ssh}`} "$@"; }`,
  ];
}

/** `--keep-*` flags of the retention policy (0 = that kind of snapshot is not kept). */
export function retentionFlags(keep: BackupPlan["keep"]): string[] {
  return [
    "--keep-daily",
    String(keep.daily),
    ...(keep.weekly > 0 ? ["--keep-weekly", String(keep.weekly)] : []),
    ...(keep.monthly > 0 ? ["--keep-monthly", String(keep.monthly)] : []),
  ];
}

/** The JSON number or string field `key` of restic's last summary line in file $1. */
const SUMMARY_FIELD = String.raw`summary_field() { grep '"message_type":"summary"' "$1" | tail -n 1 | sed -n "s/.*\"$2\":\"\{0,1\}\([0-9a-f]*\).*/\1/p"; }`;

/**
 * The per-tenant tool (installed at plan/backup.ts tenantTool): `backup [--final]`, `restore
 * [SNAPSHOT] [--yes]`, `snapshots [--json]`, `purge --yes`. It runs as root, one at a time per
 * tenant (a lock), and records every backup's outcome in the status file `tenantry status` reads.
 */
export function backupToolScript(plan: BackupPlan): Shell {
  const id = plan.identity;
  const dir = tenantStateDir(id);
  const status = backupStatusFile(id);
  const volumeLines = plan.volumes.map((v) => sh`${v.volumeName} ${v.stage}`.text).join("\n");
  return script(
    raw("#!/bin/sh"),
    raw(
      `# Installed by tenantry for tenant ${id}: its backups, restores and purge. Generated; edits`,
    ),
    raw("# are overwritten by the next pulumi up."),
    raw("set -eu"),
    raw("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    raw("umask 077"),
    sh`tenant=${id}`,
    sh`dir=${dir}`,
    sh`local_repo=${plan.repository}`,
    sh`status=${status}`,
    sh`stage=${STAGE}`,
    raw("# The containers as they are named now (a rolling service's by its generation)."),
    currentContainers(plan.containers),
    raw('export RESTIC_PASSWORD_FILE="$dir/key"'),
    sh`export RESTIC_CACHE_DIR=${CACHE_DIR}`,
    raw("# Run before failing: a restore that stopped the containers starts them again here."),
    raw("on_fail() { :; }"),
    raw('fail() { on_fail; printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    ...offsiteFunction(plan),
    raw('local_restic() { restic -r "$local_repo" "$@"; }'),
    raw(SUMMARY_FIELD),
    raw("# Each volume as `NAME STAGE-PATH`, one a line."),
    raw("volumes() {"),
    raw("  cat <<'EOF'"),
    ...(volumeLines === "" ? [] : [raw(volumeLines)]),
    raw("EOF"),
    raw("}"),
    raw("mountpoint_of() { docker volume inspect --format '{{.Mountpoint}}' \"$1\" 2>/dev/null; }"),
    raw(
      'running() { [ "$(docker inspect --format \'{{.State.Running}}\' "$1" 2>/dev/null || true)" = true ]; }',
    ),
    raw(""),
    raw("# Inside a private mount namespace: the volumes read-only under $stage, the dumps of"),
    raw("# running services beside them, then restic. $1: work dir, $2: 1 for the final backup."),
    raw("stage_backup() {"),
    raw("  work=$1"),
    raw('  mount -t tmpfs -o mode=0700,size=64m tenantry-stage "$stage"'),
    raw('  : >"$work/exclude"'),
    raw('  volumes >"$work/volumes"'),
    raw("  while read -r name path; do"),
    raw('    [ -n "$name" ] || continue'),
    raw('    mp=$(mountpoint_of "$name") || fail "volume $name is missing on this host"'),
    raw('    mkdir -p "$path"'),
    raw('    mount --bind "$mp" "$path"'),
    raw('    mount -o remount,bind,ro "$path"'),
    raw('  done <"$work/volumes"'),
    raw('  mkdir -p "$work/dumps"'),
    ...plan.dumps.flatMap((d) => [
      sh`  if running ${d.containerName}; then`,
      sh`    docker exec ${d.containerName} ${d.command} >"$work/dumps/"${d.service} 2>"$work/dump.err" || fail ${`the dump of service ${d.service} failed:`}" $(tail -n 3 "$work/dump.err")"`,
      ...d.exclude.map((e) => sh`    printf '%s\\n' ${e} >>"$work/exclude"`),
      raw("  else"),
      sh`    echo ${`tenantry: service ${d.service} of tenant ${id} is stopped: its files are copied as they are (consistent while it is stopped)`}`,
      raw("  fi"),
    ]),
    raw(
      '  if [ -n "$(ls -A "$work/dumps")" ]; then mkdir -p "$stage/dumps"; mount --bind "$work/dumps" "$stage/dumps"; fi',
    ),
    raw(
      "  # The final backup carries the tenant's secrets, from stdin into the namespace's tmpfs.",
    ),
    raw('  tags="--tag tenantry"'),
    raw('  if [ "$2" = 1 ]; then cat >"$stage/secrets.json"; tags="$tags --tag final"; fi'),
    raw("  # shellcheck disable=SC2086 # $tags is two or four words"),
    sh`  local_restic backup --json --host ${SNAPSHOT_HOST} $tags --exclude-file "$work/exclude" "$stage" >"$work/local.json" 2>"$work/local.err" || fail "restic backup to $local_repo failed: $(tail -n 3 "$work/local.err")"`,
    raw('  if [ "$has_offsite" = 1 ]; then'),
    raw("    # shellcheck disable=SC2086"),
    sh`    if ! offsite backup --json --host ${SNAPSHOT_HOST} $tags --exclude-file "$work/exclude" "$stage" >"$work/offsite.json" 2>"$work/offsite.err"; then`,
    raw('      tail -n 3 "$work/offsite.err" | tr "\\n" " " >"$work/offsite.failed"'),
    raw("    fi"),
    raw("  fi"),
    raw("}"),
    raw(""),
    raw("write_status() {"),
    raw('  last_ok=""; last_ok_snapshot=""; last_ok_bytes=""'),
    raw('  if [ -f "$status" ]; then'),
    raw(
      "    last_ok=$(sed -n 's/^lastOk=//p' \"$status\"); last_ok_snapshot=$(sed -n 's/^lastOkSnapshot=//p' \"$status\"); last_ok_bytes=$(sed -n 's/^lastOkBytes=//p' \"$status\")",
    ),
    raw("  fi"),
    raw('  if [ "$1" = ok ]; then last_ok=$now; last_ok_snapshot=$2; last_ok_bytes=$3; fi'),
    raw("  {"),
    raw(
      '    printf \'tenant=%s\\ntime=%s\\nresult=%s\\nsnapshot=%s\\nbytes=%s\\n\' "$tenant" "$now" "$1" "$2" "$3"',
    ),
    raw(
      "    printf 'offsite=%s\\nerror=%s\\n' \"$4\" \"$(printf '%s' \"$5\" | tr -d '\\r' | tr '\\n' ' ' | cut -c 1-400)\"",
    ),
    raw(
      '    printf \'lastOk=%s\\nlastOkSnapshot=%s\\nlastOkBytes=%s\\n\' "$last_ok" "$last_ok_snapshot" "$last_ok_bytes"',
    ),
    raw('  } >"$status.new"'),
    raw('  chmod 0644 "$status.new"'),
    raw('  mv -f "$status.new" "$status"'),
    raw("}"),
    raw(""),
    raw("run_backup() {"),
    raw('  final=0; if [ "${1:-}" = --final ]; then final=1; fi'),
    raw("  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)"),
    raw('  mkdir -p "$stage"'),
    raw(
      '  if ! unshare --mount --propagation private "$0" __stage-backup "$work" "$final" 2>"$work/err"; then',
    ),
    raw('    cat "$work/err" >&2'),
    raw('    msg=$(grep "^tenantry: " "$work/err" | tail -n 1 | sed "s/^tenantry: //" || true)'),
    raw('    [ -n "$msg" ] || msg=$(tail -n 1 "$work/err")'),
    raw('    write_status failed "" "" none "$msg"'),
    raw(
      '    fail "backup of tenant $tenant failed; tenantry status shows it until a backup succeeds"',
    ),
    raw("  fi"),
    raw('  snapshot=$(summary_field "$work/local.json" snapshot_id | cut -c 1-8)'),
    raw('  bytes=$(summary_field "$work/local.json" total_bytes_processed)'),
    raw(
      "  # Retention: the newest snapshot of each of the last days (weeks, months); final ones stay.",
    ),
    sh`  local_restic forget --host ${SNAPSHOT_HOST} --keep-tag final ${retentionFlags(plan.keep)} --prune >"$work/forget.out" 2>&1 || { write_status failed "$snapshot" "$bytes" none "$(tail -n 1 "$work/forget.out")"; fail "forget --prune in $local_repo failed: $(tail -n 3 "$work/forget.out")"; }`,
    raw("  offsite_result=none"),
    raw('  if [ "$has_offsite" = 1 ]; then'),
    raw('    if [ -f "$work/offsite.failed" ]; then'),
    raw(
      '      write_status failed "$snapshot" "$bytes" failed "offsite $offsite_url: $(cat "$work/offsite.failed")"',
    ),
    raw(
      '      fail "backup of tenant $tenant kept in $local_repo (snapshot $snapshot), but the offsite copy failed: $(cat "$work/offsite.failed")"',
    ),
    raw("    fi"),
    sh`    offsite forget --host ${SNAPSHOT_HOST} --keep-tag final ${retentionFlags(plan.keep)} --prune >"$work/forget.out" 2>&1 || { write_status failed "$snapshot" "$bytes" failed "offsite forget: $(tail -n 1 "$work/forget.out")"; fail "forget --prune in $offsite_url failed: $(tail -n 3 "$work/forget.out")"; }`,
    raw("    offsite_result=ok"),
    raw("  fi"),
    raw('  write_status ok "$snapshot" "$bytes" "$offsite_result" ""'),
    raw('  if [ "$final" = 1 ]; then kind="final backup"; else kind="backup"; fi'),
    raw(
      '  echo "tenantry: $kind of tenant $tenant: snapshot $snapshot ($bytes bytes) in $local_repo$([ "$has_offsite" = 1 ] && printf " and %s" "$offsite_url")"',
    ),
    raw("}"),
    raw(""),
    raw("run_restore() {"),
    raw("  snap=latest; yes=0"),
    raw('  for a in "$@"; do'),
    raw('    case "$a" in'),
    raw("      --yes) yes=1 ;;"),
    raw("      latest) snap=latest ;;"),
    raw(
      '      *[!0-9a-f]* | "") fail "no snapshot $a: a snapshot is an id from \\`tenantry restore $tenant --list\\` (hex), or latest" ;;',
    ),
    raw("      *) snap=$a ;;"),
    raw("    esac"),
    raw("  done"),
    sh`  local_restic snapshots --json --host ${SNAPSHOT_HOST} "$snap" >"$work/snap.json" 2>"$work/err" || true`,
    raw(
      '  id=$(grep -o \'"short_id":"[0-9a-f]*"\' "$work/snap.json" | tail -n 1 | cut -d \'"\' -f 4)',
    ),
    raw(
      '  [ -n "$id" ] || fail "no snapshot $snap of tenant $tenant in $local_repo $(tail -n 1 "$work/err")"',
    ),
    raw('  nonempty=""'),
    raw('  volumes >"$work/volumes"'),
    raw("  while read -r name path; do"),
    raw('    [ -n "$name" ] || continue'),
    raw(
      '    mp=$(mountpoint_of "$name") || fail "volume $name does not exist on this host: pulumi up creates it (the tenant active or suspended), then restore"',
    ),
    raw('    if [ -n "$(ls -A "$mp")" ]; then nonempty="$nonempty $name"; fi'),
    raw('  done <"$work/volumes"'),
    raw(
      '  if [ -n "$nonempty" ] && [ "$yes" != 1 ]; then fail "volumes not empty:$nonempty; a restore replaces what they hold with snapshot $id: run again with --yes"; fi',
    ),
    sh`  local_restic restore "$id" --target "$work/restore" --include "$stage/volumes" --include "$stage/dumps" >"$work/restore.out" 2>&1 || fail "restic restore of $id failed: $(tail -n 3 "$work/restore.out")"`,
    raw('  was_running=""'),
    raw('  for c in $containers; do if running "$c"; then was_running="$was_running $c"; fi; done'),
    raw("  # shellcheck disable=SC2086 # container names are words without blanks"),
    raw(
      '  on_fail() { if [ -n "$was_running" ]; then docker start $was_running >/dev/null 2>&1 || true; fi; }',
    ),
    raw("  # shellcheck disable=SC2086"),
    sh`  if [ -n "$was_running" ]; then docker stop --time 30 $was_running >/dev/null || fail "cannot stop$was_running"; fi`,
    raw("  while read -r name path; do"),
    raw('    [ -n "$name" ] || continue'),
    raw('    mp=$(mountpoint_of "$name") || fail "volume $name disappeared during the restore"'),
    raw('    find "$mp" -mindepth 1 -maxdepth 1 -exec rm -rf {} +'),
    raw('    src="$work/restore$path"'),
    raw('    if [ -d "$src" ]; then'),
    raw('      find "$src" -mindepth 1 -maxdepth 1 -exec mv -t "$mp" {} +'),
    raw('      chown --reference="$src" "$mp"; chmod --reference="$src" "$mp"'),
    raw("    fi"),
    raw('  done <"$work/volumes"'),
    ...plan.dumps.flatMap((d) =>
      d.restoreTo === undefined
        ? []
        : [
            sh`  if [ -f "$work/restore$stage/dumps/"${d.service} ]; then`,
            sh`    target="$(mountpoint_of ${d.restoreTo.volumeName})/"${d.restoreTo.relative}`,
            raw('    mkdir -p "$(dirname "$target")"'),
            sh`    cp "$work/restore$stage/dumps/"${d.service} "$target" || fail ${`cannot put the dump of ${d.service} back`}`,
            raw('    chown --reference="$(dirname "$target")" "$target"'),
            raw("  fi"),
          ],
    ),
    raw("  # shellcheck disable=SC2086"),
    raw(
      '  if [ -n "$was_running" ]; then docker start $was_running >/dev/null || fail "cannot start$was_running again"; fi',
    ),
    raw("  on_fail() { :; }"),
    ...plan.dumps.flatMap((d) =>
      d.restore === undefined
        ? []
        : [
            sh`  if [ -f "$work/restore$stage/dumps/"${d.service} ]; then`,
            raw("    i=0"),
            sh`    while ! running ${d.containerName}; do i=$((i + 1)); [ "$i" -lt 60 ] || fail ${`${d.containerName} is not running: its dump could not be loaded`}; sleep 2; done`,
            sh`    docker exec -i ${d.containerName} ${d.restore} <"$work/restore$stage/dumps/"${d.service} >"$work/load.out" 2>&1 || fail ${`loading the dump of ${d.service} failed:`}" $(tail -n 3 "$work/load.out")"`,
            raw("  fi"),
          ],
    ),
    raw(
      '  echo "tenantry: restored tenant $tenant from snapshot $id; containers started again:${was_running:- none were running}"',
    ),
    raw("}"),
    raw(""),
    raw("run_purge() {"),
    raw(
      '  [ "${1:-}" = --yes ] || fail "purge deletes the volumes and backups of tenant $tenant for good: run it with --yes"',
    ),
    raw("  for c in $containers; do"),
    raw(
      '    if docker inspect "$c" >/dev/null 2>&1; then fail "container $c still exists: decommission the tenant first (state: decommissioned, pulumi up)"; fi',
    ),
    raw("  done"),
    raw('  removed=""'),
    raw("  for name in $(volumes | cut -d ' ' -f 1); do"),
    raw(
      '    if docker volume inspect "$name" >/dev/null 2>&1; then docker volume rm "$name" >/dev/null || fail "cannot remove volume $name"; removed="$removed $name"; fi',
    ),
    raw("  done"),
    raw('  if [ "$has_offsite" = 1 ]; then'),
    sh`    ids=$(offsite snapshots --json --host ${SNAPSHOT_HOST} | grep -o '"id":"[0-9a-f]*"' | cut -d '"' -f 4) || fail "cannot list the offsite snapshots in $offsite_url"`,
    raw("    # shellcheck disable=SC2086 # one word per snapshot id"),
    raw(
      '    if [ -n "$ids" ]; then offsite forget --prune $ids >/dev/null || fail "cannot forget the offsite snapshots in $offsite_url"; fi',
    ),
    raw("  fi"),
    raw('  rm -rf "$local_repo" "$status"'),
    raw('  rm -rf "$dir"'),
    raw(
      '  echo "tenantry: purged tenant $tenant: volumes${removed:- (none left)}; backups in $local_repo$([ "$has_offsite" = 1 ] && printf " and %s" "$offsite_url"); its key"',
    ),
    raw("}"),
    raw(""),
    raw('case "${1:-}" in'),
    raw('  __stage-backup) stage_backup "$2" "$3"; exit 0 ;;'),
    raw('  __offsite) shift; offsite "$@"; exit ;;'),
    raw("esac"),
    raw(
      '[ -f "$dir/key" ] || fail "no backup key in $dir: pulumi up installs it (the tenant\'s backup step)"',
    ),
    raw('exec 8>>"$dir/lock"'),
    sh`flock -w ${LOCK_WAIT_SECONDS} 8 || fail "another backup, restore or purge of tenant $tenant is still running"`,
    raw(
      'work=$(mktemp -d "$dir/work.XXXXXX") || fail "cannot create a work directory in $dir (disk full?)"',
    ),
    raw("trap 'rm -rf \"$work\"' EXIT"),
    raw('case "${1:-}" in'),
    raw('  backup) shift; run_backup "$@" ;;'),
    raw('  restore) shift; run_restore "$@" ;;'),
    sh`  snapshots) shift; local_restic snapshots --host ${SNAPSHOT_HOST} "$@" ;;`,
    raw('  purge) shift; run_purge "$@" ;;'),
    raw(
      '  *) fail "usage: $0 backup [--final] | restore [SNAPSHOT] [--yes] | snapshots [--json] | purge --yes" ;;',
    ),
    raw("esac"),
  );
}

/**
 * The tenant's backup step (as root): checks restic, installs the key and offsite credentials
 * from stdin (never in the command text), the tool, creates the repositories if they do not
 * exist, and schedules (or, once decommissioned, unschedules) the tenant's nightly backup. A key
 * that cannot open an existing repository is refused: the old key stays.
 */
export function backupSetupScript(plan: BackupPlan, host: string): Shell {
  const dir = tenantStateDir(plan.identity);
  const tool = tenantTool(plan.identity);
  const repo = plan.repository;
  const offsite = plan.offsite;
  const frames = [KEY_FRAME, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "sshKey"];
  const knownHost =
    offsite?.kind === "sftp"
      ? `${offsite.port === 22 ? offsite.address : `[${offsite.address}]:${offsite.port}`} ${offsite.hostKey}`
      : undefined;
  return script(
    raw("set -eu"),
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("umask 077"),
    raw('fail() { printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    raw('missing=""'),
    ...[
      ["restic", "restic"],
      ["unshare", "util-linux"],
      ["base64", "coreutils"],
    ].map(
      ([tool, pkg]) =>
        sh`command -v ${tool!} >/dev/null 2>&1 || missing="$missing"${` ${tool} (apt-get install ${pkg})`}`,
    ),
    sh`[ -z "$missing" ] || fail ${`host ${host} cannot take backups, it lacks:`}"$missing; install it, then run pulumi up again"`,
    sh`mkdir -p ${STATE_DIR} ${STATUS_DIR} && chmod 0755 ${STATE_DIR} ${STATUS_DIR}`,
    sh`mkdir -p ${`${STATE_DIR}/tenants`} ${CACHE_DIR} ${`${dir}/offsite`} && chmod 0700 ${`${STATE_DIR}/tenants`} ${CACHE_DIR} ${dir}`,
    sh`mkdir -p "$(dirname ${repo})"`,
    raw('work=$(mktemp -d) || fail "cannot create a temporary directory"'),
    raw(`trap 'rm -rf "$work"' EXIT`),
    raw("while read -r name value; do"),
    raw('  case "$name" in'),
    sh`    ${raw(frames.join(" | "))}) printf '%s' "$value" | base64 -d >"$work/$name" || fail "stdin: $name is not base64" ;;`,
    raw('    "") ;;'),
    raw('    *) fail "stdin: unexpected $name" ;;'),
    raw("  esac"),
    raw("done"),
    raw('[ -s "$work/key" ] || fail "no backup key on stdin"'),
    sh`export RESTIC_CACHE_DIR=${CACHE_DIR}`,
    sh`if [ -f ${`${repo}/config`} ] && [ -f ${`${dir}/key`} ] && ! cmp -s "$work/key" ${`${dir}/key`}; then`,
    sh`  RESTIC_PASSWORD_FILE="$work/key" restic -r ${repo} cat config >/dev/null 2>&1 || fail ${`the backup key of tenant ${plan.identity} in the stack cannot open its repository ${repo} (made with the key kept in ${dir}/key); the old key stays. Put the key that made it back into the stack (the tenant's backup-key RandomPassword), or move the repository aside to start a new one`}`,
    raw("fi"),
    sh`mv -f "$work/key" ${`${dir}/key`}`,
    raw("for name in AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY sshKey; do"),
    sh`  if [ -f "$work/$name" ]; then mv -f "$work/$name" ${`${dir}/offsite`}/"$name"; fi`,
    raw("done"),
    ...(knownHost === undefined
      ? []
      : [sh`printf '%s\\n' ${knownHost} >${`${dir}/offsite/known_hosts`}`]),
    raw("# shellcheck disable=SC2016 # the tool's text, written as data, expands when it runs"),
    sh`printf '%s' ${backupToolScript(plan).text} >"$work/tool" || fail "cannot write the tool (disk full?)"`,
    raw('chmod 0700 "$work/tool"'),
    sh`if ! cmp -s "$work/tool" ${tool}; then mv -f "$work/tool" ${tool}; fi`,
    sh`export RESTIC_PASSWORD_FILE=${`${dir}/key`}`,
    raw("repository=kept"),
    sh`if [ ! -f ${`${repo}/config`} ]; then`,
    sh`  restic -r ${repo} init >"$work/init.out" 2>&1 || fail ${`cannot create the repository ${repo}:`}" $(tail -n 3 "$work/init.out")"`,
    raw("  repository=created"),
    raw("fi"),
    ...(offsite === undefined
      ? []
      : [
          sh`if ! ${tool} __offsite cat config >/dev/null 2>"$work/offsite.err"; then`,
          sh`  ${tool} __offsite init >"$work/init.out" 2>&1 || fail ${`cannot reach or create the offsite repository ${offsite.url}:`}" $(tail -n 3 "$work/init.out")"`,
          raw("fi"),
        ]),
    plan.scheduled ? sh`: >${`${dir}/scheduled`}` : sh`rm -f ${`${dir}/scheduled`}`,
    sh`echo ${`tenantry: backups of tenant ${plan.identity}: repository ${repo}`}" ($repository)"${`${offsite === undefined ? "" : `, offsite ${offsite.url}`}; ${plan.scheduled ? "nightly" : "not scheduled (decommissioned)"}`}`,
  );
}

/** The backup step's delete (the tenant's entry removed): its data and key stay. */
export function backupUnscheduleScript(plan: BackupPlan): Shell {
  const dir = tenantStateDir(plan.identity);
  return script(
    raw("set -eu"),
    sh`rm -f ${`${dir}/scheduled`}`,
    sh`echo ${`tenantry: backups of tenant ${plan.identity} no longer scheduled; ${plan.repository} and ${dir}/key are kept`}`,
  );
}

/** The runner the host's timer starts: every scheduled tenant, one after another. */
export function backupRunnerScript(): Shell {
  return script(
    raw("#!/bin/sh"),
    raw("# Installed by tenantry: the nightly backup of every scheduled tenant on this host."),
    raw("set -u"),
    raw("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
    raw('failed=""'),
    sh`for d in ${raw(`${STATE_DIR}/tenants/*/`)}; do`,
    raw('  [ -f "${d}scheduled" ] || continue'),
    raw('  "${d}tool" backup || failed="$failed $(basename "$d")"'),
    raw("done"),
    raw(
      'if [ -n "$failed" ]; then printf "tenantry: backup failed for:%s\\n" "$failed" >&2; exit 1; fi',
    ),
  );
}

export function backupTimerUnit(at: { hour: number; minute: number }): string {
  const hh = String(at.hour).padStart(2, "0");
  const mm = String(at.minute).padStart(2, "0");
  return [
    "# Installed by tenantry: nightly backups of the host's tenants.",
    "[Unit]",
    "Description=tenantry nightly backups",
    "",
    "[Timer]",
    `OnCalendar=*-*-* ${hh}:${mm}:00`,
    // A host that was off at that time backs up when it comes back.
    "Persistent=true",
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}

export function backupServiceUnit(): string {
  return [
    "# Installed by tenantry: runs every scheduled tenant's backup.",
    "[Unit]",
    "Description=tenantry backups of every tenant on this host",
    "",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${BACKUP_RUNNER}`,
    "",
  ].join("\n");
}

export function backupCronFile(at: { hour: number; minute: number }): string {
  return [
    "# Installed by tenantry: nightly backups of the host's tenants (no systemd on this host).",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `${at.minute} ${at.hour} * * * root ${BACKUP_RUNNER} >>/var/log/tenantry-backup.log 2>&1`,
    "",
  ].join("\n");
}

/**
 * The host's schedule (as root): the runner, and a systemd timer where systemd runs, else a
 * cron file. Unchanged files are left alone.
 */
export function backupScheduleScript(host: string, at: { hour: number; minute: number }): Shell {
  const timer = `${SYSTEMD_DIR}/${BACKUP_UNIT}.timer`;
  const service = `${SYSTEMD_DIR}/${BACKUP_UNIT}.service`;
  const when = `${String(at.hour).padStart(2, "0")}:${String(at.minute).padStart(2, "0")}`;
  return script(
    raw("set -eu"),
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("umask 022"),
    raw('fail() { printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    raw('work=$(mktemp -d) || fail "cannot create a temporary directory"'),
    raw(`trap 'rm -rf "$work"' EXIT`),
    raw("# put FILE CONTENT MODE: writes FILE when its content differs; prints changed."),
    raw(
      'put() { if ! printf "%s" "$2" >"$work/new"; then fail "cannot write $1 (disk full?)"; fi; chmod "$3" "$work/new"; if ! cmp -s "$work/new" "$1"; then mkdir -p "$(dirname "$1")"; mv -f "$work/new" "$1"; echo changed; fi; }',
    ),
    raw("# shellcheck disable=SC2016 # file contents, written as data"),
    sh`put ${BACKUP_RUNNER} ${backupRunnerScript().text} 0755 >/dev/null`,
    raw("if [ -d /run/systemd/system ]; then"),
    sh`  a=$(put ${service} ${backupServiceUnit()} 0644); b=$(put ${timer} ${backupTimerUnit(at)} 0644)`,
    raw('  if [ -n "$a$b" ]; then systemctl daemon-reload; fi'),
    sh`  systemctl enable --now ${`${BACKUP_UNIT}.timer`} >/dev/null 2>&1 || fail ${`cannot enable ${BACKUP_UNIT}.timer`}`,
    sh`  rm -f ${CRON_FILE}`,
    sh`  echo ${`tenantry: host ${host}: nightly backups at ${when} (systemd timer ${BACKUP_UNIT}.timer)`}`,
    raw("else"),
    sh`  [ -d "$(dirname ${CRON_FILE})" ] || fail ${`host ${host} has neither systemd nor cron (${CRON_FILE}): apt-get install cron, then pulumi up again`}`,
    sh`  put ${CRON_FILE} ${backupCronFile(at)} 0644 >/dev/null`,
    sh`  note=""; command -v cron >/dev/null 2>&1 || command -v crond >/dev/null 2>&1 || note=${"; warning: no cron daemon is installed to run it (apt-get install cron)"}`,
    sh`  echo ${`tenantry: host ${host}: nightly backups at ${when} (${CRON_FILE})`}"$note"`,
    raw("fi"),
  );
}

/** The schedule's delete (the host removed): timer, cron file and runner go; data stays. */
export function backupUnscheduleHostScript(host: string): Shell {
  return script(
    raw("set -eu"),
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("if [ -d /run/systemd/system ]; then"),
    sh`  systemctl disable --now ${`${BACKUP_UNIT}.timer`} >/dev/null 2>&1 || true`,
    raw("fi"),
    sh`rm -f ${`${SYSTEMD_DIR}/${BACKUP_UNIT}.timer`} ${`${SYSTEMD_DIR}/${BACKUP_UNIT}.service`} ${CRON_FILE} ${BACKUP_RUNNER}`,
    sh`echo ${`tenantry: host ${host}: nightly backups unscheduled (tenants' repositories are kept)`}`,
  );
}

/** Runs the tenant's tool (as root): the CLI's backup, restore and purge, the final backup. */
export function toolCommand(identity: string, args: readonly string[]): Shell {
  return script(
    raw("set -eu"),
    sh`tool=${tenantTool(identity)}`,
    sh`[ -x "$tool" ] || { echo ${`tenantry: tenant ${identity} has no backup tool on this host: pulumi up installs it (its backup step)`} >&2; exit 1; }`,
    sh`exec "$tool" ${args}`,
  );
}
