// Pure: what `tenantry status` asks a host in its one SSH session, as the SSH user (its docker
// group is enough, and the backup status files are world-readable), and how the answer parses.
// One `docker inspect` for every container of the host's tenants, one `docker stats` for the
// running ones, one `docker volume inspect`, the backup status files, and the notAfter of each
// certificate its tenants are served with (`openssl x509 -enddate`; as root through `sudo -n`
// when the SSH user may, since certbot keeps /etc/letsencrypt/live at mode 0700).
import { backupStatusFile } from "../plan/backup";
import { CONTAINER_LABEL, currentContainers } from "./containers";
import { LETSENCRYPT_DIR } from "../plan/tls";
import { ENTRY_POINT, PATTERNS, type RootOperation } from "./operation";
import { raw, script, sh, type Shell } from "./shell";

export interface StatusQuery {
  readonly containers: readonly string[];
  readonly volumes: readonly string[];
  /** Tenants' host identities, for their backup status files. */
  readonly identities: readonly string[];
  /** Certificate files (fullchain.pem) whose expiry to read; each once. */
  readonly certificates?: readonly string[];
}

/** The answer's first line: a host that prints something else is not answering this script. */
export const STATUS_HEADER = "tenantry-status 1";

/**
 * One line per container, by its logical name: a rolling service's generation (named
 * `<tenant>-<service>-<hex>`) carries it in its label (remote/containers.ts); its Docker name
 * comes last, for `docker stats`.
 */
const INSPECT_FORMAT = `container|{{with index .Config.Labels "${CONTAINER_LABEL}"}}/{{.}}{{else}}{{.Name}}{{end}}|{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}|{{.RestartCount}}|{{.HostConfig.Memory}}|{{.State.StartedAt}}|{{.Name}}`;

/**
 * Run by /bin/sh with the certificate files as arguments, as root when sudo allows: one
 * `cert|FILE|...` line each: `notAfter=...` (openssl's words), `missing`, `unreadable` (not
 * root and not readable: certbot's live directory is root's), `no-openssl`, or `error=...`.
 */
export const CERT_QUERY = [
  "if ! command -v openssl >/dev/null 2>&1; then",
  '  for f in "$@"; do printf \'cert|%s|no-openssl\\n\' "$f"; done',
  "  exit 0",
  "fi",
  'for f in "$@"; do',
  '  if [ ! -r "$f" ]; then',
  '    if [ "$(id -u)" = 0 ]; then printf \'cert|%s|missing\\n\' "$f"; else printf \'cert|%s|unreadable\\n\' "$f"; fi',
  '  elif out=$(openssl x509 -enddate -noout -in "$f" 2>&1); then',
  '    printf \'cert|%s|%s\\n\' "$f" "$(printf \'%s\' "$out" | head -n 1)"',
  "  else",
  '    printf \'cert|%s|error=%s\\n\' "$f" "$(printf \'%s\' "$out" | tail -n 1)"',
  "  fi",
  "done",
  "",
].join("\n");

/** Reads certificates' expiry as root: certbot keeps /etc/letsencrypt/live at mode 0700. */
export const CERT_EXPIRY: RootOperation = {
  name: "cert-expiry",
  summary: "prints the notAfter of each certificate FILE (tenantry status)",
  params: [],
  rest: {
    name: "file",
    pattern: `${LETSENCRYPT_DIR}/live/[A-Za-z0-9_][A-Za-z0-9._-]*/fullchain\\.pem`,
    deny: PATTERNS.dotSegment,
    what: `a certificate under ${LETSENCRYPT_DIR}/live (NAME/fullchain.pem)`,
  },
  body: () => raw(CERT_QUERY),
};

export const STATUS_OPERATIONS = [CERT_EXPIRY];

/**
 * The certificates' lines: through the entry point when the SSH user may run it with sudo (or
 * is root and has it), else the query as the user, which reports what it cannot read.
 */
function certificateLines(files: readonly string[]): Shell[] {
  if (files.length === 0) return [];
  // The files are the arguments ("$@"), checked by the entry point on the host.
  const line = sh`${ENTRY_POINT} ${CERT_EXPIRY.name} "$@"`;
  return [
    sh`set -- ${files}`,
    raw("# shellcheck disable=SC2016 # the query is data: it expands in the shell that runs it"),
    sh`cert_query=${CERT_QUERY}`,
    sh`if [ "$(id -u)" = 0 ] && [ -x ${ENTRY_POINT} ]; then`,
    sh`  ${line} 2>/dev/null || true`,
    sh`elif [ "$(id -u)" != 0 ] && sudo -n -l ${ENTRY_POINT} >/dev/null 2>&1; then`,
    sh`  sudo -n ${line} 2>/dev/null || true`,
    raw("else"),
    raw('  /bin/sh -c "$cert_query" tenantry-cert "$@" 2>/dev/null || true'),
    raw("fi"),
  ];
}

export function statusScript(q: StatusQuery): Shell {
  return script(
    raw("set -u"),
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    sh`echo ${STATUS_HEADER}`,
    raw("if ! out=$(docker version --format '{{.Server.Version}}' 2>&1); then"),
    raw('  printf "error|docker: %s\\n" "$(printf "%s" "$out" | tail -n 1)"; exit 0'),
    raw("fi"),
    ...(q.containers.length === 0
      ? []
      : [
          ...currentContainers(q.containers),
          raw("# shellcheck disable=SC2086 # one word per container"),
          sh`inspect=$(docker inspect --type container --format ${INSPECT_FORMAT} $containers 2>/dev/null || true)`,
          raw('if [ -n "$inspect" ]; then printf "%s\\n" "$inspect"; fi'),
          raw(
            "running=$(printf '%s\\n' \"$inspect\" | awk -F'|' '$3 == \"running\" { sub(/^\\//, \"\", $8); print $8 }')",
          ),
          raw("# shellcheck disable=SC2086 # one word per running container"),
          raw(
            "if [ -n \"$running\" ]; then docker stats --no-stream --format 'memory|{{.Name}}|{{.MemUsage}}' $running 2>/dev/null || true; fi",
          ),
        ]),
    ...(q.volumes.length === 0
      ? []
      : [sh`docker volume inspect --format 'volume|{{.Name}}' ${q.volumes} 2>/dev/null || true`]),
    ...q.identities.map(
      (id) =>
        sh`if [ -r ${backupStatusFile(id)} ]; then sed ${`s/^/backup|${id}|/`} ${backupStatusFile(id)}; fi`,
    ),
    ...certificateLines([...new Set(q.certificates ?? [])]),
    raw("echo end"),
  );
}

export interface ContainerState {
  readonly name: string;
  /** Docker's State.Status: running, exited, restarting, created, paused, dead. */
  readonly status: string;
  /** healthy, unhealthy, starting, or none (no health check). */
  readonly health: string;
  readonly restarts: number;
  /** Bytes; 0 = no limit. */
  readonly memoryLimit: number;
  /** Bytes in use, for running containers. */
  readonly memoryUsed?: number;
  readonly startedAt: string;
}

/** What the host said of a certificate file. */
export type CertificateAnswer =
  | { readonly kind: "ok"; readonly expires: string }
  | { readonly kind: "missing" | "unreadable" | "no-openssl" }
  | { readonly kind: "error"; readonly message: string };

export interface HostAnswer {
  /** Set when the host answered but Docker did not. */
  readonly error?: string;
  readonly containers: ReadonlyMap<string, ContainerState>;
  readonly volumes: ReadonlySet<string>;
  /** Identity → the backup status file's fields (time, result, snapshot, bytes, error...). */
  readonly backups: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Certificate file → its expiry, or why it is unknown. */
  readonly certificates: ReadonlyMap<string, CertificateAnswer>;
  /** Whether the answer reached its end (a cut-off answer is not trusted for what is missing). */
  readonly complete: boolean;
}

const UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** docker stats' "12.5MiB / 32MiB": the bytes in use (the first figure). */
export function parseMemUsage(text: string): number | undefined {
  const m = /^\s*([0-9.]+)\s*([A-Za-z]+)\s*\//.exec(text);
  if (m === null) return undefined;
  const unit = UNITS[m[2]!];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** openssl's `notAfter=Feb 28 12:00:00 2027 GMT` (day space-padded) as an ISO time. */
export function parseNotAfter(text: string): string | undefined {
  const m = /^notAfter=([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/.exec(
    text.trim(),
  );
  if (m === null) return undefined;
  const month = MONTHS.indexOf(m[1]!);
  if (month < 0) return undefined;
  const n = (group: number): number => Number(m[group]);
  return new Date(Date.UTC(n(6), month, n(2), n(3), n(4), n(5))).toISOString();
}

function certificateAnswer(value: string): CertificateAnswer {
  if (value === "missing" || value === "unreadable" || value === "no-openssl") {
    return { kind: value };
  }
  const expires = parseNotAfter(value);
  if (expires !== undefined) return { kind: "ok", expires };
  return { kind: "error", message: value.replace(/^error=/, "") };
}

export function parseStatus(text: string): HostAnswer {
  const lines = text.split("\n");
  if (lines[0]?.trim() !== STATUS_HEADER) {
    throw new Error(`the host did not answer the status script (got "${lines[0] ?? ""}")`);
  }
  const containers = new Map<string, ContainerState>();
  const memory = new Map<string, number>();
  /** Docker name → logical name (they differ for a rolling service's generation). */
  const dockerNames = new Map<string, string>();
  const volumes = new Set<string>();
  const backups = new Map<string, Record<string, string>>();
  const certificates = new Map<string, CertificateAnswer>();
  let error: string | undefined;
  let complete = false;
  for (const line of lines.slice(1)) {
    const [kind, ...fields] = line.split("|");
    switch (kind) {
      case "container": {
        const [
          name = "",
          status = "",
          health = "",
          restarts = "0",
          limit = "0",
          started = "",
          dockerName = name,
        ] = fields;
        const n = name.replace(/^\//, "");
        dockerNames.set(dockerName.replace(/^\//, ""), n);
        containers.set(n, {
          name: n,
          status,
          health,
          restarts: Number(restarts) || 0,
          memoryLimit: Number(limit) || 0,
          startedAt: started,
        });
        break;
      }
      case "memory": {
        const used = parseMemUsage(fields[1] ?? "");
        if (fields[0] !== undefined && used !== undefined) memory.set(fields[0], used);
        break;
      }
      case "volume":
        if (fields[0]) volumes.add(fields[0]);
        break;
      case "backup": {
        const [id = "", ...rest] = fields;
        const entry = rest.join("|");
        const eq = entry.indexOf("=");
        if (eq > 0) {
          const record = backups.get(id) ?? {};
          record[entry.slice(0, eq)] = entry.slice(eq + 1);
          backups.set(id, record);
        }
        break;
      }
      case "cert": {
        // The file is a path tenantry planned (no "|" in it); the rest is the host's words.
        const [file = "", ...rest] = fields;
        if (file !== "") certificates.set(file, certificateAnswer(rest.join("|")));
        break;
      }
      case "error":
        error = fields.join("|");
        break;
      case "end":
        complete = true;
        break;
      default:
        break;
    }
  }
  for (const [dockerName, used] of memory) {
    const name = dockerNames.get(dockerName) ?? dockerName;
    const c = containers.get(name);
    if (c !== undefined) containers.set(name, { ...c, memoryUsed: used });
  }
  return {
    ...(error === undefined ? {} : { error }),
    containers,
    volumes,
    backups,
    certificates,
    complete: complete || error !== undefined,
  };
}
