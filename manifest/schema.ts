// The tenants.yaml format: one zod schema that validates the structure, types the program and
// generates schema/tenants.schema.json for editors. Rules across entries live in rules.ts.
import { isIP } from "node:net";
import { deniedTree } from "../core/backupPaths";
import { NGINX_OWN_DIRS, NGINX_OWN_FILES, NGINX_ROOT } from "../core/nginxPaths";
import { z } from "zod";

/** Names of hosts, apps, services, volumes, plans and tenants: they become Docker and file names. */
export const DNS_LABEL = /^[a-z](?:[a-z0-9-]{0,29}[a-z0-9])?$/;
const DNS_LABEL_HINT =
  'lowercase letters, digits and "-", starting with a letter, not ending with "-", at most 31 characters, e.g. "acme"';

/** A fully qualified domain name in lowercase, no wildcard: served by nginx and put in DNS. */
export const HOSTNAME =
  /^(?=.{1,253}$)(?!.*\.[0-9]+$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const HOSTNAME_HINT =
  'a lowercase domain name such as "acme.example.com": letters, digits, "-" and dots; no wildcard, spaces, quotes or IP address';

/**
 * A single-label or dotted host name, for SSH addresses (`vps1`, `vps1.internal`). Its last
 * label is not all digits: `203.0.113.010` is no IPv4 address (isIP refuses the leading zero),
 * and resolvers would read it as octal.
 */
const HOST_ADDRESS =
  /^(?!.*(?:^|\.)[0-9]+$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

export const ENV_KEY = /^[A-Z_][A-Z0-9_]*$/;
const ENV_KEY_HINT =
  'upper case letters, digits and "_", not starting with a digit, e.g. "SECRET_KEY"';

/** A registry as image references name it: a lowercase host, optional port. */
export const REGISTRY =
  /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?$/;

/** Docker image reference: [registry[:port]/]path[:tag][@sha256:digest]; see imageProblem. */
export const IMAGE_REF =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** No "." or ".." segment: a path must mean what it says (nginx.dir is written as root). */
const NO_DOT_SEGMENT = String.raw`(?!.*(?:^|\/)\.{1,2}(?:\/|$))`;
const ABS_PATH = new RegExp(`^${NO_DOT_SEGMENT}\\/(?:[A-Za-z0-9._-]+\\/?)*$`);
const ROUTE = new RegExp(`^${NO_DOT_SEGMENT}\\/(?:[A-Za-z0-9._~-]+\\/)*(?:[A-Za-z0-9._~-]+)?$`);
const URL_PATH = new RegExp(`^${NO_DOT_SEGMENT}\\/[A-Za-z0-9._~/-]*$`);
export const HOST_KEY =
  /^(?:ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) AAAA[A-Za-z0-9+/]+={0,3}$/;

/**
 * A string in a given format. Its one message serves both a wrong format and a wrong type
 * (an empty value, a number), so either way the user reads what would be valid.
 */
const pattern = (format: RegExp, message: string) =>
  z.string({ error: message }).regex(format, { error: message });

const label = (what: string) =>
  pattern(DNS_LABEL, `${what} must be a DNS label (${DNS_LABEL_HINT})`);
const hostname = pattern(HOSTNAME, `must be a domain name (${HOSTNAME_HINT})`);
const envKey = pattern(ENV_KEY, `must be an environment variable name (${ENV_KEY_HINT})`);
/**
 * The bootstrap and the site scripts write nginx.dir and nginx.include as root, and nginx -c
 * reads nginx.config as root and prints what it cannot parse: each stays inside nginx's own
 * tree. Written normalised (no "." or ".." segment, no "//", no trailing "/"), so the text
 * says where the file is; what the host's own root-owned directories link to is the host's.
 */
const NORMAL_PATH = new RegExp(`^${NO_DOT_SEGMENT}(?:/[A-Za-z0-9._-]+)+$`);
const NORMALISED = `a normalised path (letters, digits, ".", "_", "-"; no "." or ".." segment, "//" or trailing "/")`;

/** The path's segments below NGINX_ROOT, or undefined when it is not a normalised path there. */
function belowNginxRoot(path: string): string[] | undefined {
  if (!NORMAL_PATH.test(path) || !path.startsWith(`${NGINX_ROOT}/`)) return undefined;
  return path.slice(NGINX_ROOT.length + 1).split("/");
}

export { NGINX_ROOT };

const nginxDir = z.string({ error: "must be a directory path" }).refine(
  (v) => {
    const below = belowNginxRoot(v);
    return below !== undefined && !NGINX_OWN_DIRS.includes(below[0]!);
  },
  {
    error: `must be tenantry's own directory under ${NGINX_ROOT}/, e.g. "${NGINX_ROOT}/tenantry": ${NORMALISED}, not ${NGINX_ROOT} itself nor inside nginx's ${NGINX_OWN_DIRS.join(", ")}`,
  },
);
const nginxConfFile = (what: string, example: string, ownFiles: readonly string[]) =>
  z.string({ error: `must be a file path such as "${example}"` }).refine(
    (v) => {
      const below = belowNginxRoot(v);
      return (
        below !== undefined &&
        v.endsWith(".conf") &&
        !ownFiles.includes(below.join("/")) &&
        !["modules-available", "modules-enabled"].includes(below[0]!)
      );
    },
    {
      error: `must be ${what}, a ".conf" file under ${NGINX_ROOT}/, e.g. "${example}": ${NORMALISED}, not ${[...ownFiles, "a file in modules-*"].join(", ")}`,
    },
  );
const envValue = z
  .union([z.string(), z.number(), z.boolean()], {
    error:
      'must be a string, number or boolean (lists and maps are not environment values; "" is an empty value)',
  })
  .transform((v) => String(v))
  .refine((v) => !/[\n\r\0]/.test(v), {
    error: "must be a single line (no newline or NUL characters)",
  });
const envMap = z.record(envKey, envValue);
const port = z
  .int({ error: "must be a whole number from 1 to 65535" })
  .min(1, { error: "must be a whole number from 1 to 65535" })
  .max(65535, { error: "must be a whole number from 1 to 65535" });

/** "80", "127.0.0.1:8080", "[::]:80": the address part, if any, and the port. */
export function parseListen(value: string): { address?: string; port: number } | undefined {
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):)?([0-9]{1,5})$/.exec(value);
  if (m === null) return undefined;
  const [, v6, v4, port] = m;
  if (v6 !== undefined && isIP(v6) !== 6) return undefined;
  if (v4 !== undefined && isIP(v4) !== 4) return undefined;
  const n = Number(port);
  if (n < 1 || n > 65535) return undefined;
  const address = v6 ?? v4;
  return address === undefined ? { port: n } : { address, port: n };
}

const nginxSchema = z
  .strictObject({
    dir: nginxDir
      .default("/etc/nginx/tenantry")
      .describe("Directory tenantry owns on the host: sites/, lock and state files."),
    include: nginxConfFile(
      "a file nginx includes in its http block",
      "/etc/nginx/conf.d/tenantry.conf",
      NGINX_OWN_FILES,
    )
      .default("/etc/nginx/conf.d/tenantry.conf")
      .describe(
        "File nginx already includes in its http block; tenantry writes its include there.",
      ),
    config: nginxConfFile("nginx's main config", "/etc/nginx/nginx.conf", [])
      .optional()
      .describe("Main nginx config passed as `nginx -c` (default: nginx's own default)."),
    listen: z
      .array(
        z.string().refine((v) => parseListen(v) !== undefined, {
          error:
            'must be a port from 1 to 65535 or address:port, e.g. "80", "[::]:80" or "127.0.0.1:8080"',
        }),
      )
      .min(1, { error: "needs at least one address to listen on" })
      .default(["80", "[::]:80"])
      .describe("nginx listen addresses for tenant sites and the catch-all server."),
    tlsListen: z
      .array(
        z.string().refine((v) => parseListen(v) !== undefined, {
          error: 'must be a port from 1 to 65535 or address:port, e.g. "443" or "[::]:443"',
        }),
      )
      .default(["443", "[::]:443"])
      .describe(
        "nginx listen addresses for HTTPS (tenant sites with tls acme or wildcard, and the default server that rejects unknown names); [] serves no HTTPS on this host.",
      ),
  })
  .describe("Where nginx lives on this host; the defaults fit Debian and Ubuntu.");

/**
 * A zone index (`fe80::1%eth0`) names a network interface of the machine that reads it: it
 * means nothing in a DNS record, needs escaping in a URL, and depends on the machine that runs
 * Pulumi. isIP accepts it, so it is refused on its own.
 */
const ZONE_INDEX_HINT =
  "an IPv6 zone index (%eth0) names an interface of one machine; use the host's global address or its name";
const hostAddress = (example: string, isName: (v: string) => boolean) =>
  z
    .string({ error: `must be an IP address or a host name, e.g. ${example}` })
    .refine((v) => !v.includes("%"), { error: ZONE_INDEX_HINT, abort: true })
    .refine((v) => isIP(v) !== 0 || isName(v), {
      error: `must be an IP address or a host name, e.g. ${example}`,
    });

/**
 * How a tenant is served (README, "TLS"): `acme` (HTTP-01 through certbot on the host; `certbot`
 * is the name 0.1 accepted and still means it), `wildcard` (one `*.<zone>` certificate per host
 * through DNS-01, for tenants directly under a managed zone) or `none` (HTTP only).
 */
export const TLS_MODES = ["acme", "wildcard", "none"] as const;
export type TlsMode = (typeof TLS_MODES)[number];
const tlsMode = z
  .enum(["acme", "certbot", "wildcard", "none"], {
    error: 'must be "acme", "wildcard" or "none" ("certbot" is accepted and means "acme")',
  })
  .transform((v): TlsMode => (v === "certbot" ? "acme" : v));

/** A command as an argv list (no shell unless its first words start one), one line per word. */
const argv = (what: string) =>
  z
    .array(
      z.string().refine((v) => !/[\n\r\0]/.test(v), { error: "must be a single line" }),
      {
        error: `${what} must be a list of words (argv), e.g. ["python", "setup_admin.py"]`,
      },
    )
    .min(1, { error: `${what} needs at least one word` });
const containerPath = pattern(
  ABS_PATH,
  'must be an absolute path inside the container, e.g. /data/app.db (no "." or ".." segments)',
);
const count = (what: string, min: number) =>
  z
    .int({ error: `must be a whole number of ${what} from ${min} to 1000` })
    .min(min, { error: `must be a whole number of ${what} from ${min} to 1000` })
    .max(1000, { error: `must be a whole number of ${what} from ${min} to 1000` });

/** restic's s3 and sftp repository URLs (README, "Backups"); credentials come from stack secrets. */
export const OFFSITE_S3 =
  /^s3:https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;
export const OFFSITE_SFTP =
  /^sftp:[a-z_][a-z0-9_-]{0,31}@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/;

const hostBackupSchema = z
  .strictObject({
    at: pattern(
      /^(?:[01][0-9]|2[0-3]):[0-5][0-9]$/,
      'must be a time of day "HH:MM" (24 h, host time), e.g. "03:00"',
    )
      .optional()
      .describe("When the nightly backup of the host's tenants starts, host time (default 03:00)."),
    keepDaily: count("days", 1).optional().describe("Daily snapshots kept (default 7)."),
    keepWeekly: count("weeks", 0).optional().describe("Weekly snapshots kept besides (default 0)."),
    keepMonthly: count("months", 0)
      .optional()
      .describe("Monthly snapshots kept besides (default 0)."),
    repository: pattern(
      ABS_PATH,
      'must be an absolute directory path on the host, e.g. /var/lib/tenantry/backups (no "." or ".." segments)',
    )
      .refine(
        (v) => v.replace(/\/+$/, "") !== "" && deniedTree(v.replace(/\/+$/, "")) === undefined,
        {
          error: (issue) =>
            `is ${String(issue.input).replace(/\/+$/, "") === "" ? "the root directory" : `inside ${deniedTree(String(issue.input).replace(/\/+$/, ""))}`}, which the system, Docker or tenantry's own state owns; use a directory of its own, e.g. /var/lib/tenantry/backups or /srv/backups`,
        },
      )
      .optional()
      .describe(
        "Directory on the host holding one restic repository per tenant (default /var/lib/tenantry/backups).",
      ),
    offsite: z
      .strictObject({
        url: z
          .string({ error: "must be a restic repository URL" })
          .refine((v) => OFFSITE_S3.test(v) || OFFSITE_SFTP.test(v), {
            error:
              'must be an s3 or sftp restic URL, e.g. "s3:https://s3.example.com/bucket/tenantry" or "sftp:backup@203.0.113.20:/srv/tenantry"; each tenant gets its own repository below it',
          })
          .describe(
            "Second repository every backup also goes to: s3:https://HOST/BUCKET[/PATH] or sftp:USER@HOST:/PATH.",
          ),
        port: port.optional().describe("SSH port of an sftp repository (default 22)."),
        hostKey: pattern(
          HOST_KEY,
          'must be "TYPE BASE64" such as "ssh-ed25519 AAAAC3Nz..." (ssh-keyscan of the sftp host, without its name)',
        )
          .optional()
          .describe("Pinned SSH host key of an sftp repository (required for sftp)."),
      })
      .optional()
      .describe(
        "An offsite copy. Credentials are stack secrets: backup.<HOST>.AWS_ACCESS_KEY_ID and backup.<HOST>.AWS_SECRET_ACCESS_KEY for s3, backup.<HOST>.sshKey for sftp.",
      ),
  })
  .describe("Nightly encrypted restic backups of every tenant on this host, with retention.");

const serviceBackupSchema = z
  .strictObject({
    dump: argv("backup.dump").describe(
      "Command run in the running container whose stdout is a consistent copy of its data (sqlite3 .backup, pg_dump, redis-cli --rdb), backed up instead of the live files in exclude.",
    ),
    exclude: z
      .array(containerPath)
      .optional()
      .describe("Live files (container paths inside the service's volumes) the dump stands for."),
    restoreTo: containerPath
      .optional()
      .describe(
        "Restore puts the dump back at this container path (a file in one of the service's volumes) while the containers are stopped: for a dump that is the database file itself.",
      ),
    restore: argv("backup.restore")
      .optional()
      .describe(
        "Restore runs this in the started container with the dump on stdin: for a dump that must be loaded (psql, redis-cli).",
      ),
  })
  .describe(
    "A consistent dump of the service's data for backups; without it volumes are copied as they are.",
  );

const initStepSchema = z
  .strictObject({
    service: label("service name").describe("The service whose container runs the command."),
    command: argv("init command").describe(
      "argv run once per tenant with docker exec, after its containers are healthy. Must be safe to re-run (it runs again when this definition changes): check TENANTRY_INIT_PREVIOUS.",
    ),
    secrets: z
      .array(envKey)
      .optional()
      .describe(
        "Generated tenant secrets the command gets as environment (e.g. ADMIN_PASSWORD); each is also a secret stack output.",
      ),
  })
  .describe("A first-run step of each tenant of the app.");

const maintenanceSchema = z
  .strictObject({
    page: z
      .string({ error: "must be the HTML of the page, as a string" })
      .min(1, { error: "must not be empty" })
      .max(65536, { error: "must be at most 64 KiB" })
      .optional()
      .describe("HTML served with 503 on a suspended tenant's domains (default: a short notice)."),
    retryAfter: z
      .int({ error: "must be a whole number of seconds from 1 to 604800" })
      .min(1, { error: "must be a whole number of seconds from 1 to 604800" })
      .max(604800, { error: "must be a whole number of seconds from 1 to 604800" })
      .optional()
      .describe("Retry-After seconds on the 503 (default 3600)."),
  })
  .describe("What a suspended tenant's domains answer.");

const hostSchema = z
  .strictObject({
    address: hostAddress("203.0.113.10 or vps1.example.com", (v) => HOST_ADDRESS.test(v)).describe(
      "IP or host name that SSH and the Docker connection use.",
    ),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, {
        error: 'must be a Unix user name, e.g. "deploy" or "root"',
      })
      .describe(
        "SSH user. A non-root user needs the sudoers line from the README and the docker group.",
      ),
    port: port.default(22).describe("SSH port."),
    hostKey: z
      .string({
        error:
          'must be the host\'s SSH public key, e.g. "ssh-ed25519 AAAAC3Nz...": run `ssh-keyscan -t ed25519 HOST` and copy the key part',
      })
      .regex(HOST_KEY, {
        error:
          'must be "TYPE BASE64" such as "ssh-ed25519 AAAAC3Nz..." (the output of `ssh-keyscan -t ed25519 HOST` without the host name)',
      })
      // @pulumi/command offers only the pinned key's own algorithm, for RSA the SHA-1 "ssh-rsa"
      // signature, which OpenSSH 8.8+ refuses (pulumi-command v1.2.1 connection.go SSHConfig;
      // test/real/dial.test.ts shows it against Debian's OpenSSH 9.2).
      .refine((v) => !v.startsWith("ssh-rsa "), {
        error:
          "an ssh-rsa key cannot be pinned: the remote commands would offer only its SHA-1 signature, which OpenSSH 8.8 and later refuse; pin the host's ed25519 key: run `ssh-keyscan -t ed25519 HOST` and copy the key part",
      })
      .describe("Pinned SSH host key: a swapped host or a man in the middle stops the apply."),
    memoryMb: z
      .int({ error: "must be a whole number of megabytes" })
      .min(64, { error: "must be at least 64 (megabytes)" })
      .describe("RAM budget for tenants on this host, in MB."),
    reserveMb: z
      .int({ error: "must be a whole number of megabytes" })
      .min(0, { error: "must be 0 or more (megabytes)" })
      .default(256)
      .describe("RAM kept back for nginx, Docker and the OS, in MB (default 256)."),
    publicAddress: hostAddress("203.0.113.10 or vps1.example.com", (v) => HOSTNAME.test(v))
      .optional()
      .describe("Address DNS records point at, when it differs from `address`."),
    portBase: z
      .int({ error: "must be a whole number" })
      .min(1024, { error: "must be from 1024 to 60000" })
      .max(60000, { error: "must be from 1024 to 60000" })
      .default(10000)
      .describe("Host ports are portBase + slot*10 + the service's portOffset (default 10000)."),
    nginx: nginxSchema.prefault({}),
    tls: tlsMode
      .optional()
      .describe("TLS mode of this host's tenants that set none (default: tls.mode)."),
    retired: z
      .record(
        label("tenant name"),
        z
          .int({ error: "must be the slot the tenant had, a whole number from 1 up" })
          .min(1, { error: "must be the slot the tenant had, a whole number from 1 up" }),
      )
      .optional()
      .describe(
        "Tenants removed from this host whose volumes may still be there: name → the slot it had. No tenant takes such a slot or name until its entry goes (after its volumes are deleted).",
      ),
    backup: hostBackupSchema.optional(),
  })
  .describe("A VPS that runs tenants.");

/**
 * What is wrong with an image reference, if anything: its form, a registry port out of range,
 * or no tag and no digest (Docker then pulls "latest", which changes under a running tenant:
 * the next container replacement would quietly run another version).
 */
export function imageProblem(ref: string): string | undefined {
  if (!IMAGE_REF.test(ref)) {
    return 'must be an image reference such as "redis:7-alpine" or "ghcr.io/example/app:1.4.2" (lowercase repository, a tag or @sha256 digest)';
  }
  const [name = ""] = ref.split("@");
  const parts = name.split("/");
  const registry = parts.length > 1 ? parts[0]! : undefined;
  const port = registry === undefined ? undefined : /:([0-9]+)$/.exec(registry)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return `registry port ${port} is out of range: a port is a whole number from 1 to 65535`;
  }
  if (!ref.includes("@") && !parts[parts.length - 1]!.includes(":")) {
    return `has no tag, so Docker would pull "latest", which changes under a running tenant; pin a tag or a digest: "${ref}:<tag>" or "${ref}@sha256:<digest>"`;
  }
  return undefined;
}

/**
 * Container paths no volume may take. Docker refuses "/"; under /proc, /sys and /dev lie the
 * kernel's files and the container's devices (runc refuses the mount, or /dev/null is gone).
 */
const VOLUME_DENIED_TREES = ["/proc", "/sys", "/dev"];
/**
 * The image's system directories: a volume exactly there is filled from the image once, at the
 * first start, so an image upgrade would keep running the old files (a directory below them,
 * such as /etc/myapp or /var/lib/postgresql/data, is fine).
 */
const VOLUME_DENIED_EXACT = [
  "/bin",
  "/boot",
  "/etc",
  "/lib",
  "/lib64",
  "/run",
  "/sbin",
  "/usr",
  "/var",
];

/** A container path without its trailing "/" ("/data/" and "/data" are one mount point). */
export function normalVolumePath(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

function volumePathProblem(path: string): string | undefined {
  const p = normalVolumePath(path);
  if (p === "/") return 'cannot be "/": Docker refuses a volume over the whole container';
  const tree = VOLUME_DENIED_TREES.find((t) => p === t || p.startsWith(`${t}/`));
  if (tree !== undefined) {
    return `cannot be under ${tree}: that is the kernel's and the container's own (${VOLUME_DENIED_TREES.join(", ")}); use a data directory such as /data`;
  }
  if (VOLUME_DENIED_EXACT.includes(p)) {
    return `cannot be ${p} itself: the volume would keep the image's ${p} from the first start, so an upgraded image would run old files; mount a directory below it (e.g. ${p}/myapp) or a data directory such as /data`;
  }
  return undefined;
}

/** A string checked by a function that says what is wrong (one message per value). */
const checked = (typeMessage: string, problem: (v: string) => string | undefined) =>
  z.string({ error: typeMessage }).superRefine((v, ctx) => {
    const message = problem(v);
    if (message !== undefined) ctx.addIssue({ code: "custom", message, input: v });
  });

/** An image reference, pinned by a tag or a digest (imageProblem). */
const imageRef = checked(
  'must be an image reference, e.g. "ghcr.io/example/app:1.4.2"',
  imageProblem,
);

const serviceSchema = z
  .strictObject({
    image: imageRef.describe("Container image, pinned by a tag or an @sha256 digest."),
    port: port.optional().describe("Port the service listens on inside the container."),
    route: pattern(
      ROUTE,
      'must be a URL path prefix such as "/" or "/api" (no "." or ".." segments)',
    )
      .optional()
      .describe(
        "nginx serves this path prefix from the service. Without it the service is internal.",
      ),
    health: pattern(URL_PATH, 'must be a URL path such as "/api/health" (no "." or ".." segments)')
      .optional()
      .describe("HTTP path polled inside the container as the Docker health check."),
    healthInterval: z
      .int({ error: "must be a whole number of seconds from 1 to 300" })
      .min(1, { error: "must be a whole number of seconds from 1 to 300" })
      .max(300, { error: "must be a whole number of seconds from 1 to 300" })
      .optional()
      .describe(
        "Seconds between health checks (default 30). Docker runs the first check one interval after the start, so a rolling replacement waits at least this long.",
      ),
    rollout: z
      .enum(["rolling", "stop-first"], { error: 'must be "rolling" or "stop-first"' })
      .optional()
      .describe(
        "How a replacement runs. rolling: the new container starts beside the old one, nginx switches once it is healthy, then the old one goes (needs health; no two writers on one volume). stop-first: the old one stops first (502s for the start time). Default: rolling for a service with health and no volumes, else stop-first.",
      ),
    command: z
      .array(z.string().refine((v) => !/[\n\r\0]/.test(v), { error: "must be a single line" }))
      .optional()
      .describe("Overrides the image's command (argv list)."),
    portOffset: z
      .int({ error: `must be a whole number from 0 to 9` })
      .min(0, { error: `must be a whole number from 0 to 9` })
      .max(9, { error: `must be a whole number from 0 to 9` })
      .optional()
      .describe(
        "Host port of this service within its tenant's slot: portBase + slot*10 + portOffset. Required for routed services of an app with more than one service; unique in the app.",
      ),
    volumes: z
      .record(
        label("volume name"),
        pattern(
          ABS_PATH,
          'must be an absolute path inside the container, e.g. /data (no "." or ".." segments)',
        ).superRefine((v, ctx) => {
          const message = volumePathProblem(v);
          if (message !== undefined) ctx.addIssue({ code: "custom", message, input: v });
        }),
      )
      .default({})
      .describe("Named volumes: name → path in the container. Kept when a tenant is removed."),
    env: envMap.default({}).describe("Environment for every tenant of this app."),
    secrets: z
      .array(
        pattern(
          /^[A-Z_][A-Z0-9_]*(?:=[A-Z_][A-Z0-9_]*)?$/,
          'must be "NAME" or "ENV=NAME" in upper case, e.g. "SECRET_KEY" or "POSTGRES_PASSWORD=DB_PASSWORD"',
        ),
      )
      .default([])
      .describe(
        "Random secrets generated per tenant. NAME sets env NAME; ENV=NAME sets env ENV to secret NAME (share one secret between services).",
      ),
    tenantEnv: z
      .boolean({ error: "must be true or false" })
      .default(true)
      .describe(
        "Whether the tenant's env and secretEnv reach this service (false for redis, postgres).",
      ),
    weight: z
      .number({ error: "must be a number" })
      .positive({ error: "must be greater than 0" })
      .default(1)
      .describe("Share of the plan's memory and CPU this service gets (default 1)."),
    backup: serviceBackupSchema.optional(),
    repull: z
      .string({ error: 'must be a token such as "2026-11-30" (any text; a change re-pulls)' })
      .regex(/^[A-Za-z0-9._:-]{1,64}$/, {
        error:
          'must be a token such as "2026-11-30" or "r2": 1 to 64 letters, digits, ".", "_", ":" or "-"',
      })
      .optional()
      .describe(
        "Change this token to pull the service's image tag again on every host (a re-pushed tag such as redis:7-alpine); containers whose image changed are replaced.",
      ),
  })
  .describe("One container of the app.");

const appSchema = z
  .strictObject({
    services: z
      .record(label("service name"), serviceSchema)
      .refine((s) => Object.keys(s).length > 0, { error: "needs at least one service" })
      .describe("Containers of one tenant, reachable from each other by service name."),
    maxBodySize: z
      .string({ error: 'must be an nginx size such as "25m" or "1g"' })
      .regex(/^[0-9]{1,6}[kmg]?$/, {
        error: 'must be an nginx size such as "25m" or "1g"',
        abort: true,
      })
      // nginx reads 0 as "no limit": one tenant could fill the host's disk with one upload.
      .refine((v) => !/^0+[kmg]?$/.test(v), {
        error:
          'must be more than 0: nginx reads 0 as no limit at all, so any upload of any size would reach the app; give the largest upload you accept, e.g. "1g"',
      })
      .default("25m")
      .describe("nginx client_max_body_size for uploads (default 25m)."),
    init: z
      .record(label("init step name"), initStepSchema)
      .optional()
      .describe("First-run steps per tenant, in this order: name → service, command, secrets."),
    maintenance: maintenanceSchema.optional(),
    channels: z
      .record(
        label("channel name"),
        z
          .record(label("service name"), imageRef)
          .describe("Service → image the channel's tenants run instead of the app's."),
      )
      .optional()
      .describe(
        "Upgrade waves: channel name → images its tenants (`channel:`) run. Bump a canary channel first, then the app's image for the rest.",
      ),
  })
  .describe("An application sold to many tenants.");

const planSchema = z
  .strictObject({
    memoryMb: z
      .int({ error: "must be a whole number of megabytes" })
      .min(16, { error: "must be at least 16 (megabytes)" })
      .describe("Memory limit for all of a tenant's containers together, in MB."),
    cpus: z
      .number({ error: "must be a number of CPUs, e.g. 0.5" })
      .min(0.01, { error: "must be at least 0.01" })
      .max(256, { error: "must be at most 256" })
      .describe("CPU limit for all of a tenant's containers together."),
  })
  .describe("A tier: resource limits per tenant.");

/** What a moved tenant's data does (README, "Moving a tenant to another host"). */
export const MOVE_DATA = ["copied", "empty"] as const;
export type MoveData = (typeof MOVE_DATA)[number];

/** A tenant's life (README, "Day-2 operations"). */
export const TENANT_STATES = ["active", "suspended", "decommissioned"] as const;
export type TenantState = (typeof TENANT_STATES)[number];

const tenantSchema = z
  .strictObject({
    app: label("app name").describe("Key under `apps`."),
    plan: label("plan name").describe("Key under `plans`."),
    host: label("host name").describe("Key under `hosts`."),
    slot: z
      .int({ error: "must be a whole number from 1 up" })
      .min(1, { error: "must be a whole number from 1 up" })
      .describe(
        "Stable small number per host; the tenant's host ports derive from it. Never reuse while data exists.",
      ),
    domain: hostname.describe(
      "Main domain. In a zone under dns.zones it is managed; otherwise the customer points it.",
    ),
    aliases: z
      .array(hostname)
      .default([])
      .describe("More domains served by the same site (custom domains)."),
    zoneApex: z
      .boolean({ error: "must be true or false" })
      .optional()
      .describe(
        "Allows this tenant a domain that is the apex of a managed zone (the zone's own name, which usually serves the company's own site). Only for a zone that is the tenant's own.",
      ),
    tls: tlsMode
      .optional()
      .describe(
        "TLS mode: acme (own certificate, HTTP-01), wildcard (the host's *.<zone> certificate) or none (HTTP only). Default: the host's tls, then tls.mode.",
      ),
    hsts: z
      .boolean({ error: "must be true or false" })
      .default(false)
      .describe(
        "Send Strict-Transport-Security (one year) on HTTPS: browsers then refuse plain HTTP for the domains. Only with acme or wildcard.",
      ),
    env: envMap.default({}).describe("Environment for this tenant; overrides the app's env."),
    secretEnv: z
      .array(envKey)
      .default([])
      .describe("Env names whose values come from stack config secrets tenant.<name>.<KEY>."),
    ports: z
      .record(label("service name"), port)
      .default({})
      .describe("Fixed host ports per routed service, for instances that already run on them."),
    state: z
      .enum(TENANT_STATES, { error: 'must be "active", "suspended" or "decommissioned"' })
      .optional()
      .describe(
        "active (default); suspended: containers stopped, a 503 maintenance page, data kept; decommissioned: final backup, then containers, site, DNS and schedule removed, volumes, backups and secrets kept.",
      ),
    channel: label("channel name")
      .optional()
      .describe(
        "Upgrade wave of this tenant: it runs the images of apps.<app>.channels.<channel> (e.g. canary).",
      ),
    images: z
      .record(label("service name"), imageRef)
      .optional()
      .describe(
        "This tenant's own image per service (same repository as the app's), over its channel's and the app's.",
      ),
    previousHost: label("host name")
      .optional()
      .describe(
        "Set when moving the tenant to another host: the host it ran on. Its volumes there do not travel by themselves; moveData says what happens to them.",
      ),
    moveData: z
      .enum(MOVE_DATA, {
        error:
          'must be "copied" (you copied the volumes to the new host) or "empty" (start empty; the old volumes stay on previousHost)',
      })
      .optional()
      .describe(
        'With previousHost: copied (you copied the volumes to the new host as the README\'s "Moving a tenant to another host" shows) or empty (the tenant starts with empty volumes).',
      ),
    previousName: label("previous tenant name")
      .optional()
      .describe(
        "The tenant's name before a rename: every resource keeps its identity (Pulumi aliases) and its objects on the host keep the old name.",
      ),
  })
  .describe("One customer.");

export const manifestSchema = z
  .strictObject({
    hosts: z
      .record(label("host name"), hostSchema)
      .refine((h) => Object.keys(h).length > 0, { error: "needs at least one host" })
      .describe("VPSes by name, e.g. vps1: the hosts tenants run on."),
    dns: z
      .strictObject({
        zones: z
          .record(
            hostname,
            pattern(/^[0-9a-f]{32}$/, "must be a Cloudflare zone id: 32 lowercase hex characters"),
          )
          .default({})
          .describe("Cloudflare zone ids by zone name. Domains under a zone get records."),
      })
      .prefault({})
      .describe("DNS records tenantry manages in Cloudflare."),
    tls: z
      .strictObject({
        mode: tlsMode
          .default("acme")
          .describe("TLS mode of tenants and hosts that set none (default acme)."),
        email: pattern(
          /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/,
          'must be an email address such as "ops@example.com"',
        )
          .optional()
          .describe("ACME account email (the CA's notices about the account)."),
        directory: pattern(
          /^https:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~%/-]*)?$/,
          'must be an https URL of an ACME directory, e.g. "https://acme-v02.api.letsencrypt.org/directory"',
        )
          .optional()
          .describe("ACME directory URL (default: Let's Encrypt)."),
        staging: z
          .boolean({ error: "must be true or false" })
          .default(false)
          .describe(
            "Use Let's Encrypt's staging directory (untrusted certificates, higher limits) to try a setup.",
          ),
      })
      .prefault({})
      .describe("How tenants get certificates: the ACME server, its account, the default mode."),
    registries: z
      .record(
        pattern(
          REGISTRY,
          'must be a registry as images name it, e.g. "ghcr.io", "registry.example.com:5000" or "docker.io" (lowercase host, optional port)',
        ),
        z
          .strictObject({
            username: pattern(
              /^[^\s:]{1,255}$/,
              'must be the registry user name (no spaces or ":"), e.g. "deploy-bot"',
            ).describe("User name; the password is the stack secret registry.<registry>.password."),
          })
          .describe("Credentials for one private registry."),
      )
      .optional()
      .describe(
        'Private registries images are pulled from: registry → username. Each password is a stack secret: pulumi config set --secret registry.<registry>.password (a port\'s ":" written "_").',
      ),
    apps: z
      .record(label("app name"), appSchema)
      .describe("Applications by name: the containers each tenant of the app gets."),
    plans: z
      .record(label("plan name"), planSchema)
      .describe("Tiers by name, e.g. small: memory and CPU limits per tenant."),
    tenants: z
      .record(label("tenant name"), tenantSchema)
      .describe("Customers by name: one isolated instance each."),
  })
  .describe("tenantry manifest: hosts, apps, plans and tenants.");

export type Manifest = z.output<typeof manifestSchema>;
export type Host = Manifest["hosts"][string];
export type NginxSettings = Host["nginx"];
export type App = Manifest["apps"][string];
export type Service = App["services"][string];
export type Plan = Manifest["plans"][string];
export type Tenant = Manifest["tenants"][string];
export type HostBackup = NonNullable<Host["backup"]>;
export type ServiceBackup = NonNullable<Service["backup"]>;
export type InitStep = NonNullable<App["init"]>[string];
export type Registry = NonNullable<Manifest["registries"]>[string];

/** The JSON Schema editors use (draft-07, input side so defaults are optional). */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(manifestSchema, { target: "draft-7", io: "input" }),
    title: "tenantry manifest (tenants.yaml)",
  };
}
