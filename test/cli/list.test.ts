// `tenantry list` over a tenant in each state of its life: the STATE column, and below the table
// what a decommissioned tenant keeps and the command that purges it (README, "Day-2 operations").
import { beforeAll, describe, expect, it } from "vitest";
import { tenantry, useScratch } from "./run";

const scratch = useScratch();

/** One tenant active, one suspended, one decommissioned; the host copies backups offsite. */
const STATES = `tls:
  mode: none

hosts:
  vps1:
    address: 203.0.113.10
    user: deploy
    hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPq9bJWL1a0JJv19axj+QvmytQ7QLQ5sNXfOEv/9Pk9i
    memoryMb: 1024
    backup:
      offsite:
        url: s3:https://s3.example.com/backups

apps:
  notes:
    services:
      web:
        image: nginx:1.27
        port: 8000
        route: /
        volumes:
          data: /data
          files: /files

plans:
  small: { memoryMb: 96, cpus: 0.5 }

tenants:
  acme:
    app: notes
    plan: small
    host: vps1
    slot: 1
    domain: acme.example.org
  globex:
    app: notes
    plan: small
    host: vps1
    slot: 2
    domain: globex.example.org
    state: suspended
  initech:
    app: notes
    plan: small
    host: vps1
    slot: 3
    domain: initech.example.org
    state: decommissioned
`;

let dir: string;
beforeAll(() => {
  dir = scratch("states", { "tenants.yaml": STATES });
});

describe("tenantry list", () => {
  it("shows each tenant's state, and what a decommissioned one keeps with its purge command", async () => {
    const result = await tenantry(dir, "list");
    expect(result).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "TENANT   STATE                           APP    PLAN   HOST  SLOT  DOMAINS              HOST PORTS  DNS       TLS",
        "acme     active                          notes  small  vps1  1     acme.example.org     web:10010   external  none (HTTP only)",
        "globex   suspended                       notes  small  vps1  2     globex.example.org   web:10020   external  none (HTTP only)",
        "initech  decommissioned (data retained)  notes  small  vps1  3     initech.example.org  web:10030   external  none (HTTP only)",
        "",
        "initech: keeps volumes initech-web-data, initech-web-files and its backups (/var/lib/tenantry/backups/initech, s3:https://s3.example.com/backups/initech); purge with: npx tenantry purge initech --yes",
        "",
      ].join("\n"),
    });
  });

  it("prints no retained-data lines when no tenant is decommissioned", async () => {
    const active = scratch("all-active", {
      "tenants.yaml": STATES.replace("    state: decommissioned\n", ""),
    });
    const result = await tenantry(active, "list");
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(4);
    expect(result.stdout).not.toContain("purge");
  });
});
