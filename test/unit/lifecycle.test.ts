// The pure parts of a tenant's life: the rules (each mistake named where it is, with what is
// valid), what the plan derives (identity, dumps as snapshot paths, offsite repositories), the
// rendered maintenance site, the status answer's parsing and what status calls a problem, and
// every generated host script through shellcheck.
import { describe, expect, it } from "vitest";
import { renderStatus, tenantStatus, formatBytes } from "../../cli/commands/status";
import { parseManifest } from "../../manifest/load";
import { formatProblem } from "../../manifest/problems";
import type { Manifest } from "../../manifest/schema";
import { initStepId, previousResourceName } from "../../plan/lifecycle";
import { planTenant, type TenantPlan } from "../../plan/tenant";
import { backupRunnerScript, retentionFlags, secretFrames } from "../../remote/backup";
import { initEnvironment, initScript, initUnchangedScript } from "../../remote/init";
import {
  maintenanceInstallScript,
  maintenanceRemoveScript,
  renderMaintenanceSite,
  suspendScript,
} from "../../remote/maintenance";
import type { Shell } from "../../remote/shell";
import { parseMemUsage, parseStatus, statusScript } from "../../remote/status";
import { describeWith } from "../support/prereq";
import { shellcheck } from "../support/shellcheck";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i";

/** A manifest with one notes app; `extra` is spliced in as YAML text at the marked places. */
function manifest(parts: { host?: string; app?: string; web?: string; tenants?: string } = {}) {
  return `tls: { mode: none }
hosts:
  vps1:
    address: 203.0.113.10
    user: deploy
    hostKey: ${KEY}
    memoryMb: 2048
${parts.host ?? ""}
apps:
  notes:
${parts.app ?? ""}
    services:
      web:
        image: ghcr.io/example/notes:1.0.0
        port: 8000
        route: /
        volumes: { data: /data, files: /srv/files }
        secrets: [SECRET_KEY]
${parts.web ?? ""}
plans:
  small: { memoryMb: 300, cpus: 0.5 }
tenants:
  acme: { app: notes, plan: small, host: vps1, slot: 1, domain: acme.example.com }
${parts.tenants ?? ""}`;
}

function problems(text: string): string[] {
  const result = parseManifest(text, "t.yaml");
  return result.ok ? [] : result.problems.map(formatProblem);
}

function valid(text: string): Manifest {
  const result = parseManifest(text, "t.yaml");
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
  return result.loaded.manifest;
}

describe("lifecycle rules", () => {
  it.each([
    [
      "an init step in an unknown service",
      { app: "    init:\n      admin: { service: wbe, command: [setup] }" },
      /t\.yaml:\d+:\d+ apps\.notes\.init\.admin\.service: is not a service of app "notes"; use "web"/,
    ],
    [
      "an init secret named twice",
      {
        app: "    init:\n      admin: { service: web, command: [setup], secrets: [ADMIN, ADMIN] }",
      },
      /apps\.notes\.init\.admin\.secrets\[1\]: names ADMIN twice/,
    ],
    [
      "an init secret in tenantry's own names",
      { app: "    init:\n      admin: { service: web, command: [setup], secrets: [TENANTRY_X] }" },
      /apps\.notes\.init\.admin\.secrets\[0\]: TENANTRY_ names are what tenantry itself passes/,
    ],
    [
      "an init command with no word",
      { app: "    init:\n      admin: { service: web, command: [] }" },
      /apps\.notes\.init\.admin\.command: init command needs at least one word/,
    ],
    [
      "a dump with no way back",
      { web: "        backup: { dump: [cat, /data/db] }" },
      /apps\.notes\.services\.web\.backup: has a dump but no way to put it back: add restoreTo/,
    ],
    [
      "a dump with two ways back",
      { web: "        backup: { dump: [cat, /data/db], restoreTo: /data/db, restore: [load] }" },
      /backup\.restore: and restoreTo are two ways to put the dump back; keep one/,
    ],
    [
      "a restoreTo outside the volumes",
      { web: "        backup: { dump: [cat, /data/db], restoreTo: /tmp/db }" },
      /backup\.restoreTo: must be a file inside one of the service's volumes.*mounted at \/data, \/srv\/files/,
    ],
    [
      "an exclude outside the volumes",
      {
        web: "        backup: { dump: [cat, /data/db], restoreTo: /data/db, exclude: [/database] }",
      },
      /backup\.exclude\[0\]: must be inside one of the service's volumes/,
    ],
    [
      "an sftp offsite without a pinned key",
      { host: "    backup:\n      offsite: { url: 'sftp:backup@203.0.113.20:/srv/tenantry' }" },
      /hosts\.vps1\.backup\.offsite: an sftp repository needs hostKey/,
    ],
    [
      "an s3 offsite with an ssh port",
      {
        host: "    backup:\n      offsite: { url: 's3:https://s3.example.com/bucket', port: 2222 }",
      },
      /hosts\.vps1\.backup\.offsite\.port: is for an sftp repository/,
    ],
    [
      "an offsite URL restic does not take",
      { host: "    backup:\n      offsite: { url: 'ftp://example.com/x' }" },
      /hosts\.vps1\.backup\.offsite\.url: must be an s3 or sftp restic URL/,
    ],
    [
      "a backup time that is no time of day",
      { host: "    backup: { at: '25:00' }" },
      /hosts\.vps1\.backup\.at: must be a time of day "HH:MM"/,
    ],
    [
      "a previousName that is the tenant's own",
      {
        tenants:
          "  beta: { app: notes, plan: small, host: vps1, slot: 2, domain: beta.example.com, previousName: beta }",
      },
      /tenants\.beta\.previousName: is the tenant's own name/,
    ],
    [
      "a previousName that is another tenant",
      {
        tenants:
          "  beta: { app: notes, plan: small, host: vps1, slot: 2, domain: beta.example.com, previousName: acme }",
      },
      /tenants\.beta\.previousName: "acme" is another tenant in this file/,
    ],
    [
      "an unknown state",
      {
        tenants:
          "  beta: { app: notes, plan: small, host: vps1, slot: 2, domain: beta.example.com, state: paused }",
      },
      /tenants\.beta\.state: must be "active", "suspended" or "decommissioned"/,
    ],
  ])("refuses %s", (_name, parts, expected) => {
    const found = problems(manifest(parts));
    expect(
      found.some((p) => expected.test(p)),
      found.join("\n"),
    ).toBe(true);
  });

  it("refuses two renamed tenants keeping one old name", () => {
    const found = problems(
      manifest({
        tenants: [
          "  beta: { app: notes, plan: small, host: vps1, slot: 2, domain: beta.example.com, previousName: old }",
          "  gamma: { app: notes, plan: small, host: vps1, slot: 3, domain: gamma.example.com, previousName: old }",
        ].join("\n"),
      }),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /tenants\.gamma\.previousName: tenant "beta" already has previousName "old"/,
      ),
    ]);
  });

  it("refuses a renamed tenant whose old objects would be another tenant's", () => {
    // Tenant "old-x" has container old-x-web; "beta" keeps the name "old", and its app's
    // service "x-web" would be container old-x-web too.
    const text = manifest({
      tenants: [
        "  old-x: { app: notes, plan: small, host: vps1, slot: 2, domain: x.example.com }",
        "  beta: { app: other, plan: small, host: vps1, slot: 3, domain: beta.example.com, previousName: old }",
      ].join("\n"),
    }).replace(
      "\nplans:\n",
      "\n  other:\n    services:\n      x-web: { image: ghcr.io/example/x:1.0.0, port: 80, route: / }\nplans:\n",
    );
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^t\.yaml:\d+:\d+ tenants\.beta\.previousName: its container on host vps1 would be "old-x-web", the same as a container of tenant "old-x" \(names on the host follow previousName\); rename one of them$/,
      ),
    ]);
  });

  it("accepts a complete lifecycle setup", () => {
    expect(
      problems(
        manifest({
          host: `    backup:\n      at: "01:15"\n      keepDaily: 14\n      keepWeekly: 4\n      offsite: { url: 'sftp:backup@203.0.113.20:/srv/tenantry', port: 2222, hostKey: '${KEY}' }`,
          app: "    maintenance: { page: '<p>soon</p>', retryAfter: 120 }\n    init:\n      admin: { service: web, command: [python, setup.py], secrets: [ADMIN_PASSWORD] }",
          web: "        backup: { dump: [sh, -c, 'sqlite3 /data/app.db .dump'], restore: [sqlite3, /data/app.db], exclude: [/data/app.db] }",
          tenants:
            "  beta: { app: notes, plan: small, host: vps1, slot: 2, domain: beta.example.com, previousName: old-beta, state: suspended }",
        }),
      ),
    ).toEqual([]);
  });
});

describe("lifecycle plan", () => {
  const m = valid(
    manifest({
      host: "    backup:\n      keepWeekly: 4\n      offsite: { url: 's3:https://s3.example.com/bucket/tenantry' }",
      app: "    init:\n      admin: { service: web, command: [setup], secrets: [ADMIN_PASSWORD] }",
      web: "        backup: { dump: [cat, /data/app.db], restoreTo: /data/app.db, exclude: [/data/app.db, /data/app.db-wal] }",
      tenants:
        "  beta: { app: notes, plan: small, host: vps1, slot: 2, domain: beta.example.com, previousName: old-beta, state: suspended }",
    }),
  );

  it("keeps a renamed tenant's objects on the host under its old name", () => {
    const beta = planTenant(m, "beta");
    expect(beta.lifecycle).toMatchObject({
      state: "suspended",
      identity: "old-beta",
      previousName: "old-beta",
      runs: true,
      serves: "maintenance",
    });
    expect(beta.services[0]!.containerName).toBe("old-beta-web");
    expect(beta.services[0]!.volumes.map((v) => v.volumeName)).toEqual([
      "old-beta-web-data",
      "old-beta-web-files",
    ]);
    expect([beta.site.fileName, beta.site.marker]).toEqual(["old-beta.conf", "old-beta@vps1"]);
    expect(beta.backup.repository).toBe("/var/lib/tenantry/backups/old-beta");
    expect(beta.lifecycle.maintenance.file).toBe("/etc/nginx/tenantry/maintenance/old-beta.html");
    expect(previousResourceName("beta-dns/beta.example.com", "beta", "old-beta")).toBe(
      "old-beta-dns/beta.example.com",
    );
    expect(previousResourceName("old-beta-web", "beta", "old-beta")).toBeUndefined();
  });

  it("maps dumps and live files to snapshot paths named by service and volume, not tenant", () => {
    const { backup } = planTenant(m, "acme");
    expect(backup.volumes.map((v) => [v.volumeName, v.containerPath, v.stage])).toEqual([
      ["acme-web-data", "/data", "/run/tenantry/stage/volumes/web/data"],
      ["acme-web-files", "/srv/files", "/run/tenantry/stage/volumes/web/files"],
    ]);
    expect(backup.dumps).toEqual([
      {
        service: "web",
        containerName: "acme-web",
        command: ["cat", "/data/app.db"],
        stage: "/run/tenantry/stage/dumps/web",
        exclude: [
          "/run/tenantry/stage/volumes/web/data/app.db",
          "/run/tenantry/stage/volumes/web/data/app.db-wal",
        ],
        restoreTo: { volumeName: "acme-web-data", relative: "app.db" },
      },
    ]);
    expect(backup.keep).toEqual({ daily: 7, weekly: 4, monthly: 0 });
    expect(retentionFlags(backup.keep)).toEqual(["--keep-daily", "7", "--keep-weekly", "4"]);
    expect(backup.offsite).toEqual({
      kind: "s3",
      url: "s3:https://s3.example.com/bucket/tenantry/acme",
    });
    expect([backup.scheduled, backup.final]).toEqual([true, false]);
  });

  it("gives an init step an id that follows its definition only", () => {
    const a = initStepId({ service: "web", command: ["setup"], secrets: ["A", "B"] });
    expect(initStepId({ service: "web", command: ["setup"], secrets: ["B", "A"] })).toBe(a);
    expect(
      initStepId({ service: "web", command: ["setup", "--force"], secrets: ["A", "B"] }),
    ).not.toBe(a);
    expect(initStepId({ service: "api", command: ["setup"], secrets: ["A", "B"] })).not.toBe(a);
    const step = planTenant(m, "acme").lifecycle.init[0]!;
    expect(
      initEnvironment(step, {
        tenant: "acme",
        domain: "acme.example.com",
        url: "http://acme.example.com",
        secrets: { ADMIN_PASSWORD: "pw1" },
      }),
    ).toBe(
      "TENANTRY_TENANT=acme\nTENANTRY_DOMAIN=acme.example.com\nTENANTRY_URL=http://acme.example.com\nADMIN_PASSWORD=pw1\n",
    );
    expect(() =>
      initEnvironment(step, {
        tenant: "acme",
        domain: "d",
        url: "u",
        secrets: { ADMIN_PASSWORD: "a\nb" },
      }),
    ).toThrow("is not one line");
  });

  it("renders the maintenance site: 503 and Retry-After for every path and method, under the site's own marker", () => {
    const beta = planTenant(m, "beta");
    expect(renderMaintenanceSite(beta.site, { ...beta.lifecycle.maintenance, retryAfter: 120 }))
      .toBe(`# tenantry-site: old-beta@vps1
# Managed by tenantry: tenant old-beta is suspended (its containers are stopped). Edits are overwritten.
server {
    listen 80;
    listen [::]:80;
    server_name beta.example.com;

    add_header Retry-After 120 always;
    add_header Cache-Control "no-store" always;
    location / {
        if ($request_method !~ ^(GET|HEAD)$) {
            return 503 "Temporarily unavailable.\\n";
        }
        return 503;
    }
    error_page 503 @maintenance;
    location @maintenance {
        root /etc/nginx/tenantry/maintenance;
        rewrite ^ /old-beta.html break;
        default_type text/html;
        charset utf-8;
        add_header Retry-After 120 always;
        add_header Cache-Control "no-store" always;
    }
}
`);
  });

  it("frames the backup step's secrets one per line, multi-line values included", () => {
    const frames = secretFrames({ key: "k1", sshKey: "-----BEGIN-----\nabc\n-----END-----\n" });
    expect(frames.split("\n")).toHaveLength(3);
    expect(Buffer.from(frames.split("\n")[1]!.split(" ")[1]!, "base64").toString()).toBe(
      "-----BEGIN-----\nabc\n-----END-----\n",
    );
  });
});

describe("status", () => {
  const m = valid(
    manifest({
      tenants:
        "  beta: { app: notes, plan: small, host: vps1, slot: 2, domain: beta.example.com, state: decommissioned }",
    }),
  );
  const acme: TenantPlan = planTenant(m, "acme");
  const beta: TenantPlan = planTenant(m, "beta");

  it.each([
    ["12.5MiB / 32MiB", 13107200],
    ["512KiB / 1GiB", 524288],
    ["1.5GB / 2GB", 1.5e9],
    ["0B / 0B", 0],
    ["--", undefined],
  ])("reads docker stats' %s as %s bytes", (text, bytes) => {
    expect(parseMemUsage(text)).toBe(bytes);
  });

  const answer = parseStatus(
    [
      "tenantry-status 1",
      "container|/acme-web|running|unhealthy|3|314572800|2026-12-01T10:00:00Z",
      "memory|acme-web|12.5MiB / 300MiB",
      "volume|beta-web-data",
      "backup|acme|tenant=acme",
      "backup|acme|time=2026-12-02T03:00:00Z",
      "backup|acme|result=failed",
      "backup|acme|error=restic backup to /x failed: disk full",
      "backup|acme|lastOk=2026-12-01T03:00:00Z",
      "end",
      "",
    ].join("\n"),
  );

  it("reads the host's answer", () => {
    expect(answer.complete).toBe(true);
    expect(answer.containers.get("acme-web")).toEqual({
      name: "acme-web",
      status: "running",
      health: "unhealthy",
      restarts: 3,
      memoryLimit: 314572800,
      memoryUsed: 13107200,
      startedAt: "2026-12-01T10:00:00Z",
    });
    expect(() => parseStatus("Welcome to the host\n")).toThrow("did not answer the status script");
  });

  it("calls what differs from the manifest a problem: unhealthy, a failed backup; a decommissioned tenant's data is listed", () => {
    const a = tenantStatus(acme, answer);
    expect(a.problems).toEqual([
      "acme-web is unhealthy",
      "backup failed at 2026-12-02T03:00:00Z: restic backup to /x failed: disk full; last good one: 2026-12-01T03:00:00Z",
    ]);
    const b = tenantStatus(beta, answer);
    expect(b.problems).toEqual([]);
    expect(b.retained).toEqual({
      volumes: ["beta-web-data", "beta-web-files"],
      volumesOnHost: ["beta-web-data"],
      backups: ["/var/lib/tenantry/backups/beta"],
      purge: "npx tenantry purge beta --yes",
    });
    const text = renderStatus([
      { host: "vps1", target: "vps1 (deploy@203.0.113.10:22)", tenants: [a, b] },
      {
        host: "vps2",
        target: "vps2 (deploy@203.0.113.11:22)",
        error: "cannot connect: Connection refused",
        tenants: [],
      },
    ]);
    expect(text).toContain(
      "  beta is decommissioned; kept: volumes beta-web-data; backups /var/lib/tenantry/backups/beta; purge with: npx tenantry purge beta --yes\n",
    );
    expect(text).toContain("vps2 (deploy@203.0.113.11:22): cannot connect: Connection refused\n");
    expect(text).toMatch(
      /problems:\n {2}acme: acme-web is unhealthy\n {2}acme: backup failed at .*\n {2}vps2: cannot connect: Connection refused\n$/,
    );
    expect([formatBytes(999), formatBytes(1234), formatBytes(12_345_678)]).toEqual([
      "999 B",
      "1.2 kB",
      "12 MB",
    ]);
  });
});

describeWith("lifecycle scripts", ["shellcheck"], () => {
  const m = valid(
    manifest({
      host: `    backup:\n      offsite: { url: 'sftp:backup@203.0.113.20:/srv/tenantry', hostKey: '${KEY}' }`,
      app: "    init:\n      admin: { service: web, command: [sh, -c, 'echo \"it''s $ADMIN_PASSWORD\"'], secrets: [ADMIN_PASSWORD] }",
      web: "        backup: { dump: [cat, /data/app.db], restore: [sh, -c, 'cat >/data/app.db'], exclude: [/data/app.db] }",
    }),
  );
  const p = planTenant(m, "acme");
  const step = p.lifecycle.init[0]!;
  const scripts: Array<[string, Shell]> = [
    ["init", initScript("acme", step)],
    ["init unchanged", initUnchangedScript("acme", step)],
    // The backup operations are the entry point's (test/unit/backupOps.test.ts checks it whole).
    ["backup runner", backupRunnerScript()],
    ["maintenance install", maintenanceInstallScript(p.lifecycle.maintenance)],
    ["maintenance remove", maintenanceRemoveScript(p.lifecycle.maintenance)],
    ["suspend", suspendScript("acme", p.backup.containers)],
    [
      "status",
      statusScript({ containers: ["acme-web"], volumes: ["acme-web-data"], identities: ["acme"] }),
    ],
  ];
  it.each(scripts)("%s passes shellcheck -s sh", (_name, shell) => {
    expect(shellcheck(shell.text)).toBe("");
  });

  it("puts no secret in the init script and quotes the command as argv words", () => {
    expect(initScript("acme", step).text).toContain(
      `docker exec --env-file "$work/env" "$container" sh -c 'echo "it'\\''s $ADMIN_PASSWORD"'`,
    );
  });
});
