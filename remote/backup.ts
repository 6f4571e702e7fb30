// Pure: a tenant's backups on its host, with restic (Debian's package): deduplicated, encrypted
// with the tenant's key (a Pulumi secret shipped to a 0600 file), retention by
// `forget --prune --keep-*`. The code that takes a backup, restores one, lists snapshots or
// purges a tenant's data is one constant operation of the root entry point (`backup-tool`); what
// differs between tenants is data, a spec the backup step writes from stdin after checking every
// field of it (backupSpec). The host's nightly timer (or cron) and the `tenantry` CLI run that
// operation. Volumes are bind-mounted read-only under one staging path in a private mount
// namespace, so every snapshot has the same layout (`/run/tenantry/stage/volumes/<service>/
// <volume>`, `.../dumps/<service>`), whatever the tenant is called and wherever Docker keeps its
// volumes.
import {
  STAGE,
  STATE_DIR,
  STATUS_DIR,
  backupStatusFile,
  tenantStateDir,
  tenantTool,
  type BackupPlan,
} from "../plan/backup";
import { REPOSITORY_DENIED_TREES } from "../core/backupPaths";
import { containerOfFunction } from "./containers";
import {
  ENTRY_POINT,
  PATTERNS,
  argValue,
  asRoot,
  type OperationParam,
  type RootOperation,
} from "./operation";
import { HOST_PARAM } from "./scripts";
import { hostValue, quote, raw, script, sh, type Shell } from "./shell";

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

/** Stdin frame names the backup setup accepts: the spec, the key, then offsite credentials. */
export const SPEC_FRAME = "spec";
export const KEY_FRAME = "key";
const CREDENTIAL_FRAMES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "sshKey"];

/** Where the backup step keeps a tenant's checked spec (root's, 0600, beside its key). */
export const tenantSpecFile = (identity: string): string => `${tenantStateDir(identity)}/spec`;

/**
 * Frames for the setup command's stdin: one `NAME BASE64` line per value (base64 keeps
 * multi-line values such as an SSH key on one line, and nothing in them is ever parsed by the
 * shell).
 */
export function secretFrames(frames: Readonly<Record<string, string>>): string {
  return Object.entries(frames)
    .map(([name, value]) => `${name} ${Buffer.from(value, "utf8").toString("base64")}\n`)
    .join("");
}

/*
 * The spec: what the constant tool needs to know of a tenant, one record a line, words separated
 * by one space. Every word is checked against its pattern here and again on the host (by the
 * entry point's `check`, C locale) before the spec is installed; a command that runs inside a
 * container is an argv of base64 words ("-" for an empty word), decoded into "$@", so no field
 * is ever read as shell code. Paths are built only from such checked words.
 */
export const SPEC_HEADER = "tenantry-backup-spec 1";

interface SpecField {
  readonly name: string;
  /** A POSIX ERE (and the same in JavaScript) the whole word must match. */
  readonly pattern: string;
  /** A word matching this anywhere is refused even when the pattern matches. */
  readonly deny?: string;
  readonly what: string;
}

interface SpecKind {
  readonly kind: string;
  readonly fields: readonly SpecField[];
  /** One or more further words: an argv run in a container, each word base64 ("-" empty). */
  readonly argv?: boolean;
  /** At most one line of this kind. */
  readonly once?: boolean;
  /** What the host's loader does with a checked line ($1... its fields): constant code. */
  readonly take?: string;
}

const SEGMENTS = "(/[A-Za-z0-9._-]+)";
/** A "." or ".." segment, at the start of a relative path or after a "/". */
const DOT_SEGMENT = "(^|/)\\.\\.?(/|$)";
/** Trees a repository may not be in: the system's, the kernel's, Docker's and tenantry's own. */
const REPOSITORY_DENY = [
  DOT_SEGMENT,
  `^(${REPOSITORY_DENIED_TREES.map((t) => t.replace(/\./g, "\\.")).join("|")})(/|$)`,
].join("|");
const ARGV_WORD: SpecField = {
  name: "argv",
  pattern: "-|([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?",
  what: 'a base64 word (or "-" for an empty word)',
};
const SERVICE: SpecField = { name: "service", pattern: PATTERNS.name, what: "a service name" };
const CONTAINER: SpecField = {
  name: "container",
  pattern: PATTERNS.dockerName,
  what: "a container name",
};
const VOLUME: SpecField = { name: "volume", pattern: PATTERNS.dockerName, what: "a volume name" };
const COUNT = "0|[1-9][0-9]{0,3}";

const SPEC_KINDS: readonly SpecKind[] = [
  {
    kind: "repository",
    once: true,
    fields: [
      {
        name: "repository",
        pattern: `${SEGMENTS}+`,
        deny: REPOSITORY_DENY,
        what: "an absolute, normalised directory outside the system's trees (hosts.*.backup.repository), then the tenant",
      },
    ],
    take: [
      'case "$1" in */"$tenant") ;; *) spec_bad "repository $1 is not tenant $tenant\'s (its last segment is the tenant)" ;; esac',
      "local_repo=$1",
    ].join("\n"),
  },
  {
    kind: "keep",
    once: true,
    fields: [
      { name: "daily", pattern: "[1-9][0-9]{0,3}", what: "a number of days from 1" },
      { name: "weekly", pattern: COUNT, what: "a number of weeks" },
      { name: "monthly", pattern: COUNT, what: "a number of months" },
    ],
    take: [
      'keep="--keep-daily $1"',
      '[ "$2" = 0 ] || keep="$keep --keep-weekly $2"',
      '[ "$3" = 0 ] || keep="$keep --keep-monthly $3"',
    ].join("\n"),
  },
  { kind: "container", fields: [CONTAINER], take: 'spec_containers="$spec_containers $1"' },
  {
    kind: "volume",
    fields: [
      VOLUME,
      {
        name: "stage",
        pattern: `${STAGE}/volumes/${PATTERNS.name}/${PATTERNS.name}`,
        what: `${STAGE}/volumes/SERVICE/VOLUME`,
      },
    ],
  },
  { kind: "dump", fields: [SERVICE, CONTAINER], argv: true },
  {
    kind: "exclude",
    fields: [
      SERVICE,
      {
        name: "path",
        pattern: `${STAGE}/volumes/${PATTERNS.name}/${PATTERNS.name}${SEGMENTS}*`,
        deny: DOT_SEGMENT,
        what: `a path under ${STAGE}/volumes/SERVICE/VOLUME`,
      },
    ],
  },
  {
    kind: "restore-to",
    fields: [
      SERVICE,
      VOLUME,
      {
        name: "relative",
        pattern: "[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*",
        deny: DOT_SEGMENT,
        what: 'a relative path inside the volume (no "." or ".." segment)',
      },
    ],
  },
  { kind: "restore", fields: [SERVICE, CONTAINER], argv: true },
  {
    kind: "offsite-s3",
    once: true,
    fields: [
      {
        name: "url",
        pattern: "s3:https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)+",
        deny: DOT_SEGMENT,
        what: "an s3 restic URL, s3:https://HOST/BUCKET[/PATH]/TENANT",
      },
    ],
    take: [
      '[ -z "$offsite_kind" ] || spec_bad "two offsite lines"',
      'case "$1" in */"$tenant") ;; *) spec_bad "offsite $1 is not tenant $tenant\'s (its last segment is the tenant)" ;; esac',
      "offsite_kind=s3; offsite_url=$1",
    ].join("\n"),
  },
  {
    kind: "offsite-sftp",
    once: true,
    fields: [
      {
        name: "url",
        pattern:
          "sftp:[a-z_][a-z0-9_-]{0,31}@[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:(/[A-Za-z0-9._~-]+)+",
        deny: DOT_SEGMENT,
        what: "an sftp restic URL, sftp:USER@HOST:/PATH/TENANT",
      },
      { name: "user", pattern: "[a-z_][a-z0-9_-]{0,31}", what: "a Unix user name" },
      {
        name: "address",
        pattern: "[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?",
        what: "a host name or IPv4 address",
      },
      { name: "port", pattern: "[1-9][0-9]{0,4}", what: "a port" },
      {
        name: "keytype",
        pattern: "ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa",
        what: "an SSH host key type",
      },
      { name: "key", pattern: "AAAA[A-Za-z0-9+/]+={0,3}", what: "an SSH host key (base64)" },
    ],
    take: [
      '[ -z "$offsite_kind" ] || spec_bad "two offsite lines"',
      'case "$1" in */"$tenant") ;; *) spec_bad "offsite $1 is not tenant $tenant\'s (its last segment is the tenant)" ;; esac',
      'offsite_kind=sftp; offsite_url=$1; offsite_user=$2; offsite_address=$3; offsite_port=$4; offsite_key="$5 $6"',
    ].join("\n"),
  },
];

const matches = (field: SpecField, word: string): boolean =>
  new RegExp(`^(?:${field.pattern})$`).test(word) &&
  (field.deny === undefined || !new RegExp(field.deny).test(word));

/** An argv as spec words: base64 each, "-" for an empty one. */
const argvWords = (argv: readonly string[]): string[] =>
  argv.map((w) => (w === "" ? "-" : Buffer.from(w, "utf8").toString("base64")));

/**
 * The tenant's spec, as the backup step ships it on stdin. Every word is checked here with the
 * host's patterns, so a plan the host would refuse fails before anything runs; all problems are
 * named at once.
 */
export function backupSpec(plan: BackupPlan): string {
  const lines: string[][] = [
    ["repository", plan.repository],
    ["keep", String(plan.keep.daily), String(plan.keep.weekly), String(plan.keep.monthly)],
    ...plan.containers.map((c) => ["container", c]),
    ...plan.volumes.map((v) => ["volume", v.volumeName, v.stage]),
  ];
  for (const d of plan.dumps) {
    lines.push(["dump", d.service, d.containerName, ...argvWords(d.command)]);
    lines.push(...d.exclude.map((e) => ["exclude", d.service, e]));
    if (d.restoreTo !== undefined) {
      lines.push(["restore-to", d.service, d.restoreTo.volumeName, d.restoreTo.relative]);
    }
    if (d.restore !== undefined) {
      lines.push(["restore", d.service, d.containerName, ...argvWords(d.restore)]);
    }
  }
  const offsite = plan.offsite;
  if (offsite?.kind === "s3") lines.push(["offsite-s3", offsite.url]);
  if (offsite?.kind === "sftp") {
    const [keyType = "", key = ""] = offsite.hostKey.split(" ");
    lines.push([
      "offsite-sftp",
      offsite.url,
      offsite.user,
      offsite.address,
      String(offsite.port),
      keyType,
      key,
    ]);
  }
  const problems: string[] = [];
  for (const [kind, ...words] of lines) {
    const spec = SPEC_KINDS.find((k) => k.kind === kind)!;
    const fixed = words.slice(0, spec.fields.length);
    const argv = words.slice(spec.fields.length);
    spec.fields.forEach((field, i) => {
      if (!matches(field, fixed[i] ?? "")) {
        const label = field.name === kind ? kind : `${kind} ${field.name}`;
        problems.push(`${label} ${JSON.stringify(fixed[i] ?? "")} is not ${field.what}`);
      }
    });
    if (spec.argv === true && argv.length === 0) problems.push(`${kind}: an empty command`);
    if (argv.some((w) => !matches(ARGV_WORD, w))) problems.push(`${kind}: a malformed argv word`);
  }
  const tail = `/${plan.identity}`;
  if (!plan.repository.endsWith(tail)) {
    problems.push(`repository ${plan.repository} does not end in ${tail}`);
  }
  if (offsite !== undefined && !offsite.url.endsWith(tail)) {
    problems.push(`offsite ${offsite.url} does not end in ${tail}`);
  }
  if (problems.length > 0) {
    throw new Error(
      `the backup spec of tenant ${plan.identity} would be refused by its host: ${problems.join("; ")}`,
    );
  }
  return [[SPEC_HEADER], ...lines].map((l) => l.join(" ")).join("\n") + "\n";
}

/**
 * The backup setup's stdin: the spec, then the key and offsite credentials, each a frame
 * (secretFrames). `frames` are the secrets: `key` and the offsite credentials the host needs.
 */
export function backupSetupStdin(
  plan: BackupPlan,
  frames: Readonly<Record<string, string>>,
): string {
  const unknown = Object.keys(frames).filter(
    (n) => n !== KEY_FRAME && !CREDENTIAL_FRAMES.includes(n),
  );
  if (unknown.length > 0) {
    throw new Error(
      `backup setup frames: ${unknown.join(", ")} (valid: ${[KEY_FRAME, ...CREDENTIAL_FRAMES].join(", ")})`,
    );
  }
  return secretFrames({ [SPEC_FRAME]: backupSpec(plan), ...frames });
}

/** `check LABEL "$N" ...`: the entry point's check of one word (refuses, exit 2). */
function checkWord(label: string, field: SpecField, value: string): string {
  const words = [field.pattern, field.deny ?? "", "required", field.what].map((w) => quote(w));
  return `check ${quote(label)} ${value} ${words.join(" ")}`;
}

/**
 * `load_spec FILE`: checks every line of a spec, as backupSpec does, and sets $local_repo,
 * $keep, $spec_containers and $offsite_*; a bad spec stops the operation (exit 2) before it
 * changes anything. Runs in every backup operation: the spec is checked where it is used.
 */
function loadSpecFunction(): Shell[] {
  const branch = (k: SpecKind): string[] => {
    const n = k.fields.length;
    const count = k.argv === true ? `[ $# -ge ${n + 1} ]` : `[ $# -eq ${n} ]`;
    return [
      `      ${k.kind})`,
      `        ${count} || spec_bad "line $line_no: ${k.kind} takes ${k.fields.map((f) => f.name.toUpperCase()).join(" ")}${k.argv === true ? " ARGV..." : ""}"`,
      ...(k.once === true
        ? [
            `        case "$seen" in *" ${k.kind} "*) spec_bad "line $line_no: a second ${k.kind} line" ;; esac`,
            `        seen="$seen ${k.kind} "`,
          ]
        : []),
      ...k.fields.map(
        (f, i) =>
          `        ${checkWord(f.name === k.kind ? `spec ${k.kind}` : `spec ${k.kind} ${f.name}`, f, `"$${i + 1}"`)}`,
      ),
      ...(k.argv === true
        ? [
            `        shift ${n}`,
            `        for w in "$@"; do ${checkWord(`spec ${k.kind} argv`, ARGV_WORD, '"$w"')}; done`,
          ]
        : []),
      ...(k.take === undefined ? [] : k.take.split("\n").map((l) => `        ${l}`)),
      "        ;;",
    ];
  };
  return [
    raw('spec_bad() { refuse "the backup spec of tenant $tenant: $*"; }'),
    raw("load_spec() {"),
    raw("  spec=$1"),
    raw(
      '  [ -f "$spec" ] || fail "tenant $tenant has no backups set up on this host: pulumi up sets them up (its backup step)"',
    ),
    raw("  # Printable ASCII only (no tab, no CR), every line ends in a newline."),
    raw(
      "  if grep -q -v -x '[ -~]*' \"$spec\"; then spec_bad 'a line holds a control character'; fi",
    ),
    raw('  [ -z "$(tail -c 1 "$spec")" ] || spec_bad "its last line does not end in a newline"'),
    sh`  [ "$(head -n 1 "$spec")" = ${SPEC_HEADER} ] || spec_bad ${`its first line is not ${SPEC_HEADER}`}`,
    raw('  local_repo=""; keep=""; spec_containers=""; seen=" "'),
    raw(
      '  offsite_kind=""; offsite_url=""; offsite_user=""; offsite_address=""; offsite_port=""; offsite_key=""',
    ),
    raw("  line_no=0"),
    raw("  while IFS= read -r line <&3; do"),
    raw("    line_no=$((line_no + 1))"),
    raw('    [ "$line_no" -gt 1 ] || continue'),
    raw("    # Words, never patterns: no word is glob-expanded before it is checked."),
    raw("    set -f"),
    raw("    # shellcheck disable=SC2086 # split into its words"),
    raw("    set -- $line"),
    raw("    set +f"),
    raw('    [ $# -gt 0 ] || spec_bad "line $line_no is empty"'),
    raw("    kind=$1"),
    raw("    shift"),
    raw('    case "$kind" in'),
    ...SPEC_KINDS.flatMap(branch).map((l) => raw(l)),
    raw('      *) spec_bad "line $line_no: unknown record $kind" ;;'),
    raw("    esac"),
    raw('  done 3<"$spec"'),
    raw('  [ -n "$local_repo" ] || spec_bad "no repository line"'),
    raw('  [ -n "$keep" ] || spec_bad "no keep line"'),
    raw("}"),
    raw("# The spec's records of one kind, their fields (checked by load_spec), one a line."),
    raw('spec_lines() { awk -v k="$1" \'$1 == k { sub(/^[^ ]+ /, ""); print }\' "$spec"; }'),
  ];
}

/** The tenant's names on the host, from the IDENTITY argument. */
function tenantNames(): Shell[] {
  const id = argValue("identity");
  return [
    sh`tenant=${id}`,
    sh`dir=${tenantStateDir(id)}`,
    sh`status=${backupStatusFile(id)}`,
    sh`stage=${STAGE}`,
  ];
}

/** `offsite ARGS...`: restic on the spec's offsite repository (s3 or sftp), or an error. */
function offsiteFunction(): Shell[] {
  // restic runs this ssh for the sftp backend; the server's key is pinned in its own file.
  const ssh = [
    "ssh -i $dir/offsite/sshKey -p $offsite_port",
    "-o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes",
    "-o UserKnownHostsFile=$dir/offsite/known_hosts -o GlobalKnownHostsFile=/dev/null",
    "$offsite_user@$offsite_address -s sftp",
  ].join(" ");
  return [
    raw("offsite() {"),
    raw('  case "$offsite_kind" in'),
    raw(
      '    s3) AWS_ACCESS_KEY_ID=$(cat "$dir/offsite/AWS_ACCESS_KEY_ID") AWS_SECRET_ACCESS_KEY=$(cat "$dir/offsite/AWS_SECRET_ACCESS_KEY") restic -r "$offsite_url" "$@" ;;',
    ),
    raw(`    sftp) restic -r "$offsite_url" -o "sftp.command=${ssh}" "$@" ;;`),
    raw('    *) echo "tenantry: no offsite repository is configured" >&2; return 1 ;;'),
    raw("  esac"),
    raw("}"),
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

/** What the tool and its staging step share: names, the spec, restic, containers. */
function toolCommon(): Shell[] {
  return [
    raw("umask 077"),
    ...tenantNames(),
    raw("# Run before failing: a restore that stopped the containers starts them again here."),
    raw("on_fail() { :; }"),
    raw('fail() { on_fail; printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    ...loadSpecFunction(),
    ...offsiteFunction(),
    raw('export RESTIC_PASSWORD_FILE="$dir/key"'),
    sh`export RESTIC_CACHE_DIR=${CACHE_DIR}`,
    raw('local_restic() { restic -r "$local_repo" "$@"; }'),
    containerOfFunction(),
    raw("mountpoint_of() { docker volume inspect --format '{{.Mountpoint}}' \"$1\" 2>/dev/null; }"),
    raw(
      'running() { [ "$(docker inspect --format \'{{.State.Running}}\' "$1" 2>/dev/null || true)" = true ]; }',
    ),
    raw("# in_container FLAG CONTAINER WORD...: docker exec (-i when FLAG is -i) of the argv the"),
    raw('# base64 WORDs spell ("-" an empty one), decoded into "$@": never read as shell code.'),
    raw("in_container() {"),
    raw("  flag=$1; c=$2; shift 2"),
    raw("  n=$#"),
    raw('  for w in "$@"; do'),
    raw(
      '    if [ "$w" = - ]; then v=""; else v=$(printf \'%s\' "$w" | base64 -d && echo .) || return 1; v=${v%.}; fi',
    ),
    raw('    set -- "$@" "$v"'),
    raw("  done"),
    raw('  shift "$n"'),
    raw('  if [ "$flag" = -i ]; then docker exec -i "$c" "$@"; else docker exec "$c" "$@"; fi'),
    raw("}"),
  ];
}

/**
 * Inside a private mount namespace: the volumes read-only under $stage, the dumps of running
 * services beside them, then restic. $1: work dir, $2: 1 for the final backup.
 */
function stageFunction(): Shell[] {
  return [
    raw("stage_backup() {"),
    raw("  work=$1"),
    raw('  mount -t tmpfs -o mode=0700,size=64m tenantry-stage "$stage"'),
    raw('  : >"$work/exclude"'),
    raw('  spec_lines volume >"$work/volumes"'),
    raw("  while read -r name path <&3; do"),
    raw('    [ -n "$name" ] || continue'),
    raw('    mp=$(mountpoint_of "$name") || fail "volume $name is missing on this host"'),
    raw('    mkdir -p "$path"'),
    raw('    mount --bind "$mp" "$path"'),
    raw('    mount -o remount,bind,ro "$path"'),
    raw('  done 3<"$work/volumes"'),
    raw('  mkdir -p "$work/dumps"'),
    raw('  spec_lines dump >"$work/dump-lines"'),
    raw("  while read -r service container argv <&3; do"),
    raw('    [ -n "$service" ] || continue'),
    raw('    if running "$container"; then'),
    raw("      # shellcheck disable=SC2086 # base64 words"),
    raw(
      '      in_container - "$container" $argv </dev/null >"$work/dumps/$service" 2>"$work/dump.err" || fail "the dump of service $service failed: $(tail -n 3 "$work/dump.err")"',
    ),
    raw(
      '      spec_lines exclude | awk -v s="$service" \'$1 == s { print $2 }\' >>"$work/exclude"',
    ),
    raw("    else"),
    raw(
      '      echo "tenantry: service $service of tenant $tenant is stopped: its files are copied as they are (consistent while it is stopped)"',
    ),
    raw("    fi"),
    raw('  done 3<"$work/dump-lines"'),
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
    raw('  if [ -n "$offsite_kind" ]; then'),
    raw("    # shellcheck disable=SC2086"),
    sh`    if ! offsite backup --json --host ${SNAPSHOT_HOST} $tags --exclude-file "$work/exclude" "$stage" >"$work/offsite.json" 2>"$work/offsite.err"; then`,
    raw('      tail -n 3 "$work/offsite.err" | tr "\\n" " " >"$work/offsite.failed"'),
    raw("    fi"),
    raw("  fi"),
    raw("}"),
  ];
}

/** The tool's actions: backup, restore, snapshots, purge (and the status file they write). */
function toolActions(): Shell[] {
  const usage = `usage: ${ENTRY_POINT} backup-tool TENANT backup [--final] | restore [SNAPSHOT] [--yes] | snapshots [--json] [--offsite] | purge --yes`;
  return [
    sh`usage() { fail ${usage}; }`,
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
    raw("  final=0"),
    raw('  for a in "$@"; do case "$a" in --final) final=1 ;; *) usage ;; esac; done'),
    raw("  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)"),
    raw('  mkdir -p "$stage"'),
    raw(
      "  # The staging step is this entry point's own backup-stage, in a private mount namespace.",
    ),
    raw(
      '  if ! unshare --mount --propagation private /bin/sh "$0" backup-stage "$tenant" "$work" "$final" 2>"$work/err"; then',
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
    raw("  # shellcheck disable=SC2086 # $keep is two, four or six words"),
    sh`  local_restic forget --host ${SNAPSHOT_HOST} --keep-tag final $keep --prune >"$work/forget.out" 2>&1 || { write_status failed "$snapshot" "$bytes" none "$(tail -n 1 "$work/forget.out")"; fail "forget --prune in $local_repo failed: $(tail -n 3 "$work/forget.out")"; }`,
    raw("  offsite_result=none"),
    raw('  if [ -n "$offsite_kind" ]; then'),
    raw('    if [ -f "$work/offsite.failed" ]; then'),
    raw(
      '      write_status failed "$snapshot" "$bytes" failed "offsite $offsite_url: $(cat "$work/offsite.failed")"',
    ),
    raw(
      '      fail "backup of tenant $tenant kept in $local_repo (snapshot $snapshot), but the offsite copy failed: $(cat "$work/offsite.failed")"',
    ),
    raw("    fi"),
    raw("    # shellcheck disable=SC2086"),
    sh`    offsite forget --host ${SNAPSHOT_HOST} --keep-tag final $keep --prune >"$work/forget.out" 2>&1 || { write_status failed "$snapshot" "$bytes" failed "offsite forget: $(tail -n 1 "$work/forget.out")"; fail "forget --prune in $offsite_url failed: $(tail -n 3 "$work/forget.out")"; }`,
    raw("    offsite_result=ok"),
    raw("  fi"),
    raw('  write_status ok "$snapshot" "$bytes" "$offsite_result" ""'),
    raw('  if [ "$final" = 1 ]; then kind="final backup"; else kind="backup"; fi'),
    raw(
      '  echo "tenantry: $kind of tenant $tenant: snapshot $snapshot ($bytes bytes) in $local_repo$([ -n "$offsite_kind" ] && printf " and %s" "$offsite_url")"',
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
    raw('  spec_lines volume >"$work/volumes"'),
    raw("  while read -r name path <&3; do"),
    raw('    [ -n "$name" ] || continue'),
    raw(
      '    mp=$(mountpoint_of "$name") || fail "volume $name does not exist on this host: pulumi up creates it (the tenant active or suspended), then restore"',
    ),
    raw('    if [ -n "$(ls -A "$mp")" ]; then nonempty="$nonempty $name"; fi'),
    raw('  done 3<"$work/volumes"'),
    raw(
      '  if [ -n "$nonempty" ] && [ "$yes" != 1 ]; then fail "volumes not empty:$nonempty; a restore replaces what they hold with snapshot $id: run again with --yes"; fi',
    ),
    sh`  local_restic restore "$id" --target "$work/restore" --include "$stage/volumes" --include "$stage/dumps" >"$work/restore.out" 2>&1 || fail "restic restore of $id failed: $(tail -n 3 "$work/restore.out")"`,
    raw('  containers=""'),
    raw('  for n in $spec_containers; do containers="$containers $(container_of "$n")"; done'),
    raw('  was_running=""'),
    raw('  for c in $containers; do if running "$c"; then was_running="$was_running $c"; fi; done'),
    raw("  # shellcheck disable=SC2086 # container names are words without blanks"),
    raw(
      '  on_fail() { if [ -n "$was_running" ]; then docker start $was_running >/dev/null 2>&1 || true; fi; }',
    ),
    raw("  # shellcheck disable=SC2086"),
    raw(
      '  if [ -n "$was_running" ]; then docker stop --time 30 $was_running >/dev/null || fail "cannot stop$was_running"; fi',
    ),
    raw("  while read -r name path <&3; do"),
    raw('    [ -n "$name" ] || continue'),
    raw('    mp=$(mountpoint_of "$name") || fail "volume $name disappeared during the restore"'),
    raw('    find "$mp" -mindepth 1 -maxdepth 1 -exec rm -rf {} +'),
    raw('    src="$work/restore$path"'),
    raw('    if [ -d "$src" ]; then'),
    raw('      find "$src" -mindepth 1 -maxdepth 1 -exec mv -t "$mp" {} +'),
    raw('      chown --reference="$src" "$mp"; chmod --reference="$src" "$mp"'),
    raw("    fi"),
    raw('  done 3<"$work/volumes"'),
    raw('  spec_lines restore-to >"$work/restore-to"'),
    raw("  while read -r service volume relative <&3; do"),
    raw('    [ -n "$service" ] || continue'),
    raw('    if [ -f "$work/restore$stage/dumps/$service" ]; then'),
    raw('      target="$(mountpoint_of "$volume")/$relative"'),
    raw('      mkdir -p "$(dirname "$target")"'),
    raw(
      '      cp "$work/restore$stage/dumps/$service" "$target" || fail "cannot put the dump of $service back"',
    ),
    raw('      chown --reference="$(dirname "$target")" "$target"'),
    raw("    fi"),
    raw('  done 3<"$work/restore-to"'),
    raw("  # shellcheck disable=SC2086"),
    raw(
      '  if [ -n "$was_running" ]; then docker start $was_running >/dev/null || fail "cannot start$was_running again"; fi',
    ),
    raw("  on_fail() { :; }"),
    raw('  spec_lines restore >"$work/restore-lines"'),
    raw("  while read -r service container argv <&3; do"),
    raw('    [ -n "$service" ] || continue'),
    raw('    if [ -f "$work/restore$stage/dumps/$service" ]; then'),
    raw("      i=0"),
    raw(
      '      while ! running "$container"; do i=$((i + 1)); [ "$i" -lt 60 ] || fail "$container is not running: its dump could not be loaded"; sleep 2; done',
    ),
    raw("      # shellcheck disable=SC2086 # base64 words"),
    raw(
      '      in_container -i "$container" $argv <"$work/restore$stage/dumps/$service" >"$work/load.out" 2>&1 || fail "loading the dump of $service failed: $(tail -n 3 "$work/load.out")"',
    ),
    raw("    fi"),
    raw('  done 3<"$work/restore-lines"'),
    raw(
      '  echo "tenantry: restored tenant $tenant from snapshot $id; containers started again:${was_running:- none were running}"',
    ),
    raw("}"),
    raw(""),
    raw("run_snapshots() {"),
    raw("  where=local_restic; json=0"),
    raw(
      '  for a in "$@"; do case "$a" in --json) json=1 ;; --offsite) where=offsite ;; *) usage ;; esac; done',
    ),
    sh`  if [ "$json" = 1 ]; then "$where" snapshots --host ${SNAPSHOT_HOST} --json; else "$where" snapshots --host ${SNAPSHOT_HOST}; fi`,
    raw("}"),
    raw(""),
    raw("run_purge() {"),
    raw(
      '  [ "$*" = --yes ] || fail "purge deletes the volumes and backups of tenant $tenant for good: run it with --yes"',
    ),
    raw("  for n in $spec_containers; do"),
    raw(
      '    if docker inspect "$n" >/dev/null 2>&1; then fail "container $n still exists: decommission the tenant first (state: decommissioned, pulumi up)"; fi',
    ),
    raw("  done"),
    raw('  removed=""'),
    raw("  for name in $(spec_lines volume | cut -d ' ' -f 1); do"),
    raw(
      '    if docker volume inspect "$name" >/dev/null 2>&1; then docker volume rm "$name" >/dev/null || fail "cannot remove volume $name"; removed="$removed $name"; fi',
    ),
    raw("  done"),
    raw('  if [ -n "$offsite_kind" ]; then'),
    sh`    ids=$(offsite snapshots --json --host ${SNAPSHOT_HOST} | grep -o '"id":"[0-9a-f]*"' | cut -d '"' -f 4) || fail "cannot list the offsite snapshots in $offsite_url"`,
    raw("    # shellcheck disable=SC2086 # one word per snapshot id"),
    raw(
      '    if [ -n "$ids" ]; then offsite forget --prune $ids >/dev/null || fail "cannot forget the offsite snapshots in $offsite_url"; fi',
    ),
    raw("  fi"),
    raw('  rm -rf "$local_repo" "$status"'),
    raw('  rm -rf "$dir"'),
    raw(
      '  echo "tenantry: purged tenant $tenant: volumes${removed:- (none left)}; backups in $local_repo$([ -n "$offsite_kind" ] && printf " and %s" "$offsite_url"); its key"',
    ),
    raw("}"),
  ];
}

/*
 * The operations. Their bodies are built once, with placeholders (argValue) for the arguments
 * the entry point checked; what differs between tenants comes from the checked spec.
 */

const IDENTITY: OperationParam = {
  name: "identity",
  pattern: PATTERNS.name,
  what: "a tenant's name on the host (its identity)",
};

/** The tool's actions, and the words they take (the tool checks their order). */
const TOOL_ACTION: OperationParam = {
  name: "action",
  pattern: "backup|restore|snapshots|purge",
  what: "backup, restore, snapshots or purge",
};
const TOOL_WORD: OperationParam = {
  name: "word",
  pattern: "--final|--yes|--json|--offsite|latest|[0-9a-f]{8,64}",
  what: "--final, --yes, --json, --offsite, latest or a snapshot id (8 to 64 hex digits)",
};

export const BACKUP_SETUP: RootOperation = {
  name: "backup-setup",
  summary:
    "installs a tenant's backup spec, key and offsite credentials from stdin, and its repositories",
  params: [
    IDENTITY,
    { name: "schedule", pattern: "nightly|off", what: "nightly or off (decommissioned)" },
    HOST_PARAM,
  ],
  body: () => backupSetupBody(),
};

export const BACKUP_UNSCHEDULE: RootOperation = {
  name: "backup-unschedule",
  summary: "takes a tenant out of the nightly backups; its data and key stay",
  params: [IDENTITY],
  body: () => backupUnscheduleBody(),
};

export const BACKUP_TOOL: RootOperation = {
  name: "backup-tool",
  summary: "a tenant's backup, restore, snapshots or purge, as its installed spec says",
  params: [IDENTITY, TOOL_ACTION],
  rest: TOOL_WORD,
  body: () =>
    script(
      ...toolCommon(),
      ...stageFunction(),
      ...toolActions(),
      raw(SUMMARY_FIELD),
      raw('load_spec "$dir/spec"'),
      raw(
        '[ -f "$dir/key" ] || fail "no backup key in $dir: pulumi up installs it (the tenant\'s backup step)"',
      ),
      raw('exec 8>>"$dir/lock"'),
      sh`flock -w ${LOCK_WAIT_SECONDS} 8 || fail "another backup, restore or purge of tenant $tenant is still running"`,
      raw(
        'work=$(mktemp -d "$dir/work.XXXXXX") || fail "cannot create a work directory in $dir (disk full?)"',
      ),
      raw("trap 'rm -rf \"$work\"' EXIT"),
      sh`case ${argValue("action")} in`,
      raw('  backup) run_backup "$@" ;;'),
      raw('  restore) run_restore "$@" ;;'),
      raw('  snapshots) run_snapshots "$@" ;;'),
      raw('  purge) run_purge "$@" ;;'),
      raw("esac"),
    ),
};

/** The staging half of a backup, which backup-tool runs in a private mount namespace. */
export const BACKUP_STAGE: RootOperation = {
  name: "backup-stage",
  summary: "backup-tool's own step: stages and backs up a tenant in a private mount namespace",
  params: [
    IDENTITY,
    {
      name: "work",
      pattern: `${STATE_DIR}/tenants/${PATTERNS.name}/work\\.[A-Za-z0-9]{6}`,
      what: "backup-tool's work directory",
    },
    { name: "final", pattern: "0|1", what: "0 or 1 (the final backup)" },
  ],
  body: () =>
    script(
      ...toolCommon(),
      ...stageFunction(),
      sh`case ${argValue("work")} in "$dir"/work.*) ;; *) refuse ${"backup-stage: the work directory is not this tenant's"} ;; esac`,
      sh`[ -d ${argValue("work")} ] || refuse ${"backup-stage runs only inside backup-tool (no such work directory)"}`,
      raw(
        '[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] || refuse "backup-stage runs only inside backup-tool, in its private mount namespace"',
      ),
      raw('load_spec "$dir/spec"'),
      sh`stage_backup ${argValue("work")} ${argValue("final")}`,
    ),
};

/**
 * The tenant's backup step (as root): checks restic, the spec and the key from stdin (never in
 * the command text) before anything changes, installs them and the offsite credentials, creates
 * the repositories if they do not exist, and schedules (or, once decommissioned, unschedules)
 * the tenant's nightly backup. A key that cannot open an existing repository is refused: the old
 * key stays.
 */
function backupSetupBody(): Shell {
  const frames = [SPEC_FRAME, KEY_FRAME, ...CREDENTIAL_FRAMES];
  const host = argValue("host");
  const keyRefused =
    "the backup key of tenant $tenant in the stack cannot open its repository $local_repo (made with the key kept in $dir/key); the old key stays. Put the key that made it back into the stack (the tenant's backup-key RandomPassword), or move the repository aside to start a new one";
  return script(
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("umask 077"),
    ...tenantNames(),
    raw('fail() { printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    ...loadSpecFunction(),
    ...offsiteFunction(),
    raw('work=$(mktemp -d) || fail "cannot create a temporary directory"'),
    raw(`trap 'rm -rf "$work"' EXIT`),
    raw("while read -r name value; do"),
    raw('  case "$name" in'),
    sh`    ${raw(frames.join(" | "))}) printf '%s' "$value" | base64 -d >"$work/$name" || fail "stdin: $name is not base64" ;;`,
    raw('    "") ;;'),
    raw('    *) fail "stdin: unexpected $name" ;;'),
    raw("  esac"),
    raw("done"),
    raw('[ -s "$work/spec" ] || fail "no backup spec on stdin"'),
    raw("# A spec with one bad word is refused here, before anything changes."),
    raw('load_spec "$work/spec"'),
    raw('[ -s "$work/key" ] || fail "no backup key on stdin"'),
    raw('missing=""'),
    ...[
      ["restic", "restic"],
      ["unshare", "util-linux"],
      ["flock", "util-linux"],
      ["base64", "coreutils"],
    ].map(
      ([tool, pkg]) =>
        sh`command -v ${tool!} >/dev/null 2>&1 || missing="$missing"${` ${tool} (apt-get install ${pkg})`}`,
    ),
    sh`[ -z "$missing" ] || fail ${`host ${host} cannot take backups, it lacks:`}"$missing; install it, then run pulumi up again"`,
    sh`mkdir -p ${STATE_DIR} ${STATUS_DIR} && chmod 0755 ${STATE_DIR} ${STATUS_DIR}`,
    sh`mkdir -p ${`${STATE_DIR}/tenants`} ${CACHE_DIR} "$dir/offsite" && chmod 0700 ${`${STATE_DIR}/tenants`} ${CACHE_DIR} "$dir"`,
    raw('mkdir -p "$(dirname "$local_repo")"'),
    sh`export RESTIC_CACHE_DIR=${CACHE_DIR}`,
    raw(
      'if [ -f "$local_repo/config" ] && [ -f "$dir/key" ] && ! cmp -s "$work/key" "$dir/key"; then',
    ),
    raw(
      `  RESTIC_PASSWORD_FILE="$work/key" restic -r "$local_repo" cat config >/dev/null 2>&1 || fail "${keyRefused}"`,
    ),
    raw("fi"),
    raw('mv -f "$work/key" "$dir/key"'),
    sh`for name in ${CREDENTIAL_FRAMES}; do`,
    raw('  if [ -f "$work/$name" ]; then mv -f "$work/$name" "$dir/offsite/$name"; fi'),
    raw("done"),
    raw('if [ "$offsite_kind" = sftp ]; then'),
    raw(
      '  if [ "$offsite_port" = 22 ]; then pinned=$offsite_address; else pinned="[$offsite_address]:$offsite_port"; fi',
    ),
    raw('  printf \'%s %s\\n\' "$pinned" "$offsite_key" >"$dir/offsite/known_hosts"'),
    raw("fi"),
    raw('if ! cmp -s "$work/spec" "$dir/spec"; then mv -f "$work/spec" "$dir/spec"; fi'),
    raw("# Before the entry point, each tenant had a generated tool here: root runs it no more."),
    sh`rm -f ${tenantTool(argValue("identity"))}`,
    raw('export RESTIC_PASSWORD_FILE="$dir/key"'),
    raw("repository=kept"),
    raw('if [ ! -f "$local_repo/config" ]; then'),
    raw(
      '  restic -r "$local_repo" init >"$work/init.out" 2>&1 || fail "cannot create the repository $local_repo: $(tail -n 3 "$work/init.out")"',
    ),
    raw("  repository=created"),
    raw("fi"),
    raw('if [ -n "$offsite_kind" ]; then'),
    raw('  if ! offsite cat config >/dev/null 2>"$work/offsite.err"; then'),
    raw(
      '    offsite init >"$work/init.out" 2>&1 || fail "cannot reach or create the offsite repository $offsite_url: $(tail -n 3 "$work/init.out")"',
    ),
    raw("  fi"),
    raw("fi"),
    sh`if [ ${argValue("schedule")} = nightly ]; then : >"$dir/scheduled"; when=nightly; else rm -f "$dir/scheduled"; when="not scheduled (decommissioned)"; fi`,
    raw(
      'echo "tenantry: backups of tenant $tenant: repository $local_repo ($repository)$([ -n "$offsite_kind" ] && printf ", offsite %s" "$offsite_url"); $when"',
    ),
  );
}

/** The backup step's delete (the tenant's entry removed): its data and key stay. */
function backupUnscheduleBody(): Shell {
  return script(
    ...tenantNames(),
    raw('rm -f "$dir/scheduled"'),
    raw('repo=$(awk \'$1 == "repository" { print $2 }\' "$dir/spec" 2>/dev/null || true)'),
    raw(
      'echo "tenantry: backups of tenant $tenant no longer scheduled; ${repo:-its repository} and $dir/key are kept"',
    ),
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
    raw('  t=$(basename "$d")'),
    sh`  ${ENTRY_POINT} backup-tool "$t" backup </dev/null || failed="$failed $t"`,
    raw("done"),
    raw(
      'if [ -n "$failed" ]; then printf "tenantry: backup failed for:%s\\n" "$failed" >&2; exit 1; fi',
    ),
  );
}

/** The timer unit; `hh` and `mm` are two digits each (or the operation's placeholders). */
export function backupTimerUnit(hh: string, mm: string): string {
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

/** The cron file; `hour` and `minute` as cron reads them (no leading zero). */
export function backupCronFile(hour: string, minute: string): string {
  return [
    "# Installed by tenantry: nightly backups of the host's tenants (no systemd on this host).",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `${minute} ${hour} * * * root ${BACKUP_RUNNER} >>/var/log/tenantry-backup.log 2>&1`,
    "",
  ].join("\n");
}

export const BACKUP_SCHEDULE: RootOperation = {
  name: "backup-schedule",
  summary: "installs the nightly backup runner and its systemd timer (or cron file) at HOUR:MINUTE",
  params: [
    { name: "hour", pattern: "[01][0-9]|2[0-3]", what: "an hour, two digits (00 to 23)" },
    { name: "minute", pattern: "[0-5][0-9]", what: "a minute, two digits (00 to 59)" },
    HOST_PARAM,
  ],
  body: () => backupScheduleBody(),
};

export const BACKUP_UNSCHEDULE_HOST: RootOperation = {
  name: "backup-unschedule-host",
  summary: "removes the nightly backup runner, timer and cron file; the repositories stay",
  params: [HOST_PARAM],
  body: () => backupUnscheduleHostBody(),
};

/**
 * The host's schedule (as root): the runner, and a systemd timer where systemd runs, else a
 * cron file. Unchanged files are left alone.
 */
function backupScheduleBody(): Shell {
  const timer = `${SYSTEMD_DIR}/${BACKUP_UNIT}.timer`;
  const service = `${SYSTEMD_DIR}/${BACKUP_UNIT}.service`;
  const [hh, mm, host] = [argValue("hour"), argValue("minute"), argValue("host")];
  const when = `${hh}:${mm}`;
  return script(
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("umask 022"),
    raw('fail() { printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    raw('work=$(mktemp -d) || fail "cannot create a temporary directory"'),
    raw(`trap 'rm -rf "$work"' EXIT`),
    raw("# cron reads 02 as 2 (and 08 is no octal number for it)."),
    raw("cron_hour=${a_hour#0}; cron_minute=${a_minute#0}"),
    raw("# put FILE CONTENT MODE: writes FILE when its content differs; prints changed."),
    raw(
      'put() { if ! printf "%s" "$2" >"$work/new"; then fail "cannot write $1 (disk full?)"; fi; chmod "$3" "$work/new"; if ! cmp -s "$work/new" "$1"; then mkdir -p "$(dirname "$1")"; mv -f "$work/new" "$1"; echo changed; fi; }',
    ),
    raw("# shellcheck disable=SC2016 # file contents, written as data"),
    sh`put ${BACKUP_RUNNER} ${backupRunnerScript().text} 0755 >/dev/null`,
    raw("if [ -d /run/systemd/system ]; then"),
    sh`  a=$(put ${service} ${backupServiceUnit()} 0644); b=$(put ${timer} ${backupTimerUnit(hh, mm)} 0644)`,
    raw('  if [ -n "$a$b" ]; then systemctl daemon-reload; fi'),
    sh`  systemctl enable --now ${`${BACKUP_UNIT}.timer`} >/dev/null 2>&1 || fail ${`cannot enable ${BACKUP_UNIT}.timer`}`,
    sh`  rm -f ${CRON_FILE}`,
    sh`  echo ${`tenantry: host ${host}: nightly backups at ${when} (systemd timer ${BACKUP_UNIT}.timer)`}`,
    raw("else"),
    sh`  [ -d "$(dirname ${CRON_FILE})" ] || fail ${`host ${host} has neither systemd nor cron (${CRON_FILE}): apt-get install cron, then pulumi up again`}`,
    sh`  put ${CRON_FILE} ${backupCronFile(hostValue("cron_hour"), hostValue("cron_minute"))} 0644 >/dev/null`,
    sh`  note=""; command -v cron >/dev/null 2>&1 || command -v crond >/dev/null 2>&1 || note=${"; warning: no cron daemon is installed to run it (apt-get install cron)"}`,
    sh`  echo ${`tenantry: host ${host}: nightly backups at ${when} (${CRON_FILE})`}"$note"`,
    raw("fi"),
  );
}

/** The schedule's delete (the host removed): timer, cron file and runner go; data stays. */
function backupUnscheduleHostBody(): Shell {
  return script(
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("if [ -d /run/systemd/system ]; then"),
    sh`  systemctl disable --now ${`${BACKUP_UNIT}.timer`} >/dev/null 2>&1 || true`,
    raw("fi"),
    sh`rm -f ${`${SYSTEMD_DIR}/${BACKUP_UNIT}.timer`} ${`${SYSTEMD_DIR}/${BACKUP_UNIT}.service`} ${CRON_FILE} ${BACKUP_RUNNER}`,
    sh`echo ${`tenantry: host ${argValue("host")}: nightly backups unscheduled (tenants' repositories are kept)`}`,
  );
}

/** The root operations of backups (remote/entry.ts runs them). */
export const BACKUP_OPERATIONS: readonly RootOperation[] = [
  BACKUP_SETUP,
  BACKUP_UNSCHEDULE,
  BACKUP_TOOL,
  BACKUP_STAGE,
  BACKUP_SCHEDULE,
  BACKUP_UNSCHEDULE_HOST,
];

/*
 * The command texts the program and the CLI run.
 */

/** The tenant's backup step; its stdin is backupSetupStdin. Checks the spec before it runs. */
export function backupSetupCommand(user: string, plan: BackupPlan, host: string): string {
  backupSpec(plan);
  return asRoot(user, BACKUP_SETUP, [plan.identity, plan.scheduled ? "nightly" : "off", host]);
}

/** The backup step's delete. */
export function backupUnscheduleCommand(user: string, plan: BackupPlan): string {
  return asRoot(user, BACKUP_UNSCHEDULE, [plan.identity]);
}

const twoDigits = (n: number): string => String(n).padStart(2, "0");

/** The host's nightly schedule at `at`, host time. */
export function backupScheduleCommand(
  user: string,
  host: string,
  at: { hour: number; minute: number },
): string {
  return asRoot(user, BACKUP_SCHEDULE, [twoDigits(at.hour), twoDigits(at.minute), host]);
}

export function backupUnscheduleHostCommand(user: string, host: string): string {
  return asRoot(user, BACKUP_UNSCHEDULE_HOST, [host]);
}

/**
 * Runs the tenant's tool (as root): `backup [--final]`, `restore [SNAPSHOT] [--yes]`,
 * `snapshots [--json] [--offsite]`, `purge --yes` — the CLI's backup, restore and purge, and
 * the final backup (its secrets on stdin).
 */
export function toolCommand(user: string, identity: string, args: readonly string[]): string {
  const [action = "", ...rest] = args;
  return asRoot(user, BACKUP_TOOL, [identity, action], rest);
}
