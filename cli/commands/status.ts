// `tenantry status [TENANT]`: what runs on the hosts, one SSH session per host whatever the
// number of tenants: per tenant each container's state, health, restarts and memory against its
// limit, its last backup with its size and its certificate's expiry; a decommissioned tenant's
// retained data and the command that purges it. A host that does not answer is one line, the others still report.
import type { Command } from "commander";
import type { Host } from "../../manifest/schema";
import { retainedData, type RetainedData } from "../../plan/backup";
import { planTenants, type TenantPlan } from "../../plan/tenant";
import { sh } from "../../remote/shell";
import {
  parseStatus,
  statusScript,
  type CertificateAnswer,
  type HostAnswer,
} from "../../remote/status";
import { loadManifestFile, plural, table, tenantNamed } from "../common";
import { failureReason, hostTarget, identityFor, runOverSsh } from "../remoteRun";

export interface ServiceStatus {
  readonly service: string;
  readonly container: string;
  /** Docker's state, or "missing" when the container does not exist. */
  readonly status: string;
  readonly health: string;
  readonly restarts: number;
  readonly memoryUsed?: number;
  readonly memoryLimit: number;
}

export interface BackupStatus {
  readonly time: string;
  readonly result: string;
  readonly snapshot: string;
  readonly bytes?: number;
  readonly offsite: string;
  readonly error: string;
  readonly lastOk: string;
  readonly lastOkBytes?: number;
}

export interface CertificateStatus {
  /** notAfter, ISO. */
  readonly expires: string;
  /** Whole days from now to notAfter; negative once expired. */
  readonly daysLeft: number;
}

/**
 * From this many days left, a certificate is a problem: certbot renews at 30 days left and
 * retries twice a day, so a certificate this close to its end has failed to renew for weeks.
 */
export const CERTIFICATE_DAYS_WARNING = 14;

export interface TenantStatus {
  readonly tenant: string;
  readonly host: string;
  readonly state: string;
  readonly services: readonly ServiceStatus[];
  /** Undefined: never backed up. */
  readonly backup?: BackupStatus;
  readonly retained?: RetainedData & { readonly volumesOnHost: readonly string[] };
  /** The expiry of the certificate it is served with; null without TLS, or when unknown. */
  readonly certificate: CertificateStatus | null;
  /** Why a tenant with TLS has no expiry here: "openssl missing", ... */
  readonly certificateUnknown?: string;
  /** What is not as the manifest says, one line each. */
  readonly problems: readonly string[];
}

export interface HostStatus {
  readonly host: string;
  readonly target: string;
  readonly error?: string;
  readonly tenants: readonly TenantStatus[];
}

const num = (v: string | undefined): number | undefined =>
  v === undefined || v === "" || !/^[0-9]+$/.test(v) ? undefined : Number(v);

/** The certificate file a tenant is served with, if its host should have one now. */
export function certificateFile(plan: TenantPlan): string | undefined {
  if (plan.lifecycle.state === "decommissioned") return undefined; // its TLS went with its site
  return plan.tls.certificate?.certificate;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The certificate's expiry (or why it is unknown) and the problems it makes. */
export function certificateStatus(
  file: string,
  answer: CertificateAnswer | undefined,
  now: Date,
): { certificate: CertificateStatus | null; unknown?: string; problems: string[] } {
  switch (answer?.kind) {
    case undefined:
      return { certificate: null, unknown: "not reported by the host", problems: [] };
    case "ok": {
      const daysLeft = Math.floor((Date.parse(answer.expires) - now.getTime()) / DAY_MS);
      const day = answer.expires.slice(0, 10);
      const problems =
        daysLeft < 0
          ? [
              `certificate ${file} expired on ${day}: certbot did not renew it (on the host: sudo certbot renew --dry-run says why)`,
            ]
          : daysLeft < CERTIFICATE_DAYS_WARNING
            ? [
                `certificate ${file} expires on ${day}, in ${plural(daysLeft, "day")}: certbot renews at 30 days left, so its renewal fails (on the host: sudo certbot renew --dry-run says why)`,
              ]
            : [];
      return { certificate: { expires: answer.expires, daysLeft }, problems };
    }
    case "missing":
      return {
        certificate: null,
        unknown: `no certificate at ${file}`,
        problems: [
          `no certificate at ${file}: HTTPS is not set up (pulumi up's TLS step gets it, or says why it cannot)`,
        ],
      };
    case "unreadable":
      return {
        certificate: null,
        unknown:
          "not readable by the SSH user, who may not run the entry point through sudo: certbot keeps it root's; the README's sudoers line lets status read it",
        problems: [],
      };
    case "no-openssl":
      return { certificate: null, unknown: "openssl missing", problems: [] };
    case "error":
      return { certificate: null, unknown: `openssl: ${answer.message}`, problems: [] };
  }
}

/** A tenant's status from its host's answer, with what differs from its state in the manifest. */
export function tenantStatus(
  plan: TenantPlan,
  answer: HostAnswer,
  now: Date = new Date(),
): TenantStatus {
  const state = plan.lifecycle.state;
  const problems: string[] = [];
  const services: ServiceStatus[] = plan.services.map((s) => {
    const c = answer.containers.get(s.containerName);
    const status = c?.status ?? "missing";
    if (state === "active") {
      if (status !== "running") problems.push(`${s.containerName} is ${status}, not running`);
      else if (c?.health === "unhealthy") problems.push(`${s.containerName} is unhealthy`);
    } else if (state === "suspended" && status === "running") {
      problems.push(`${s.containerName} runs although the tenant is suspended`);
    } else if (state === "decommissioned" && c !== undefined) {
      problems.push(`${s.containerName} still exists although the tenant is decommissioned`);
    }
    return {
      service: s.name,
      container: s.containerName,
      status,
      health: c?.health ?? "-",
      restarts: c?.restarts ?? 0,
      ...(c?.memoryUsed === undefined ? {} : { memoryUsed: c.memoryUsed }),
      memoryLimit: c?.memoryLimit ?? s.memoryMb * 1024 * 1024,
    };
  });
  const fields = answer.backups.get(plan.lifecycle.identity);
  let backup: BackupStatus | undefined;
  if (fields !== undefined) {
    const bytes = num(fields.bytes);
    const lastOkBytes = num(fields.lastOkBytes);
    backup = {
      time: fields.time ?? "",
      result: fields.result ?? "",
      snapshot: fields.snapshot ?? "",
      ...(bytes === undefined ? {} : { bytes }),
      offsite: fields.offsite ?? "none",
      error: fields.error ?? "",
      lastOk: fields.lastOk ?? "",
      ...(lastOkBytes === undefined ? {} : { lastOkBytes }),
    };
    if (backup.result !== "ok") {
      problems.push(
        `backup failed at ${backup.time}: ${backup.error || "(no message)"}; last good one: ${backup.lastOk || "never"}`,
      );
    }
  }
  const retained =
    state === "decommissioned"
      ? {
          ...retainedData(plan.backup),
          volumesOnHost: plan.backup.volumes
            .map((v) => v.volumeName)
            .filter((v) => answer.volumes.has(v)),
        }
      : undefined;
  const file = certificateFile(plan);
  const cert =
    file === undefined
      ? { certificate: null, problems: [] }
      : certificateStatus(file, answer.certificates.get(file), now);
  problems.push(...cert.problems);
  return {
    tenant: plan.name,
    host: plan.host,
    state,
    services,
    ...(backup === undefined ? {} : { backup }),
    ...(retained === undefined ? {} : { retained }),
    certificate: cert.certificate,
    ...(cert.unknown === undefined ? {} : { certificateUnknown: cert.unknown }),
    problems,
  };
}

/** "1.2 MB", "340 kB", "12 B". */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = bytes;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

function memoryCell(s: ServiceStatus): string {
  const limit = s.memoryLimit > 0 ? mib(s.memoryLimit) : "no limit";
  return s.memoryUsed === undefined ? `- / ${limit} MiB` : `${mib(s.memoryUsed)} / ${limit} MiB`;
}

function backupCell(b: BackupStatus | undefined): string {
  if (b === undefined) return "never";
  if (b.result === "ok") {
    return `${b.time} ${b.snapshot}${b.bytes === undefined ? "" : `, ${formatBytes(b.bytes)}`}${b.offsite === "ok" ? ", offsite" : ""}`;
  }
  return `FAILED ${b.time} (last ok: ${b.lastOk || "never"})`;
}

/** "expires 2027-02-28 (88 days)", "EXPIRED 2027-02-28 (3 days ago)", "unknown (why)". */
export function certificateText(t: TenantStatus): string | undefined {
  if (t.certificate !== null) {
    const day = t.certificate.expires.slice(0, 10);
    const left = t.certificate.daysLeft;
    return left < 0
      ? `EXPIRED ${day} (${plural(-left, "day")} ago)`
      : `expires ${day} (${plural(left, "day")})`;
  }
  return t.certificateUnknown === undefined ? undefined : `unknown (${t.certificateUnknown})`;
}

export function renderStatus(hosts: readonly HostStatus[]): string {
  const out: string[] = [];
  const problems: string[] = [];
  for (const h of hosts) {
    if (h.error !== undefined) {
      out.push(`${h.target}: ${h.error}`);
      problems.push(`${h.host}: ${h.error}`);
      continue;
    }
    out.push(h.target);
    const rows: string[][] = [
      [
        "TENANT",
        "STATE",
        "SERVICE",
        "CONTAINER",
        "STATUS",
        "HEALTH",
        "RESTARTS",
        "MEMORY",
        "LAST BACKUP",
      ],
    ];
    for (const t of h.tenants) {
      t.services.forEach((s, i) => {
        rows.push([
          i === 0 ? t.tenant : "",
          i === 0 ? t.state : "",
          s.service,
          s.container,
          s.status,
          s.health,
          String(s.restarts),
          memoryCell(s),
          i === 0 ? backupCell(t.backup) : "",
        ]);
      });
      for (const p of t.problems) problems.push(`${t.tenant}: ${p}`);
    }
    out.push(
      table(rows)
        .split("\n")
        .map((l) => `  ${l}`)
        .join("\n"),
    );
    for (const t of h.tenants) {
      const cert = certificateText(t);
      if (cert !== undefined) out.push(`  ${t.tenant}: certificate ${cert}`);
    }
    for (const t of h.tenants) {
      if (t.retained === undefined) continue;
      out.push(
        `  ${t.tenant} is decommissioned; kept: volumes ${t.retained.volumesOnHost.join(", ") || "(none left on the host)"}; backups ${t.retained.backups.join(", ")}; purge with: ${t.retained.purge}`,
      );
    }
  }
  if (problems.length > 0) out.push("problems:", ...problems.map((p) => `  ${p}`));
  return `${out.join("\n")}\n`;
}

/** One host's status: one SSH session, whatever the number of its tenants. */
async function hostStatus(
  hostName: string,
  host: Host,
  plans: readonly TenantPlan[],
  identity: string | undefined,
  timeoutMs: number,
): Promise<HostStatus> {
  const target = hostTarget(hostName, host);
  const query = statusScript({
    containers: plans.flatMap((p) => p.services.map((s) => s.containerName)),
    volumes: plans.flatMap((p) => p.backup.volumes.map((v) => v.volumeName)),
    identities: plans.map((p) => p.lifecycle.identity),
    certificates: plans.flatMap((p) => certificateFile(p) ?? []),
  });
  const result = await runOverSsh(hostName, host, sh`/bin/sh -c ${query.text}`.text, {
    ...(identity === undefined ? {} : { identity }),
    timeoutMs,
  });
  if (result.code !== 0) {
    return { host: hostName, target, error: failureReason(result), tenants: [] };
  }
  let answer: HostAnswer;
  try {
    answer = parseStatus(result.stdout);
  } catch (err) {
    return { host: hostName, target, error: (err as Error).message, tenants: [] };
  }
  if (answer.error !== undefined) {
    return { host: hostName, target, error: answer.error, tenants: [] };
  }
  return { host: hostName, target, tenants: plans.map((p) => tenantStatus(p, answer)) };
}

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description(
      "Show what runs on the hosts: containers, health, restarts, memory, last backup, certificate expiry; one SSH session per host (exit 1 when a host does not answer or something differs from the manifest)",
    )
    .argument("[tenant]", "only this tenant")
    .option("-f, --file <manifest>", "manifest", "tenants.yaml")
    .option("--json", "print JSON")
    .option(
      "-i, --identity <file>",
      "SSH private key (default: the stack's sshKeyPath, your agent)",
    )
    .option("--stack <name>", "read sshKeyPath from Pulumi.<name>.yaml next to the manifest")
    .option("--timeout <seconds>", "per host", "60")
    .action(
      async (
        tenant: string | undefined,
        options: {
          file: string;
          json?: boolean;
          identity?: string;
          stack?: string;
          timeout: string;
        },
      ) => {
        const loaded = loadManifestFile(options.file);
        const only = tenant === undefined ? undefined : tenantNamed(loaded, tenant);
        const identity = identityFor(options, loaded.file);
        const plans = planTenants(loaded.manifest).filter(
          (p) => only === undefined || p.name === only,
        );
        const byHost = new Map<string, TenantPlan[]>();
        for (const p of plans) byHost.set(p.host, [...(byHost.get(p.host) ?? []), p]);
        const timeoutMs = Math.max(1, Number(options.timeout) || 60) * 1000;
        const hosts = await Promise.all(
          [...byHost].map(([name, onHost]) =>
            hostStatus(name, loaded.manifest.hosts[name]!, onHost, identity, timeoutMs),
          ),
        );
        process.stdout.write(
          options.json === true ? `${JSON.stringify({ hosts }, null, 2)}\n` : renderStatus(hosts),
        );
        const bad = hosts.some(
          (h) => h.error !== undefined || h.tenants.some((t) => t.problems.length > 0),
        );
        if (bad) process.exitCode = 1;
      },
    );
}
