// The wildcard mode on a real host: the host's DNS-01 step (the program's own command, over SSH
// as `deploy`) runs Debian's certbot with its Cloudflare plugin against pebble, and every tenant
// directly under the zone is then served with that one certificate, asking for nothing itself.
// Real: certbot, its plugin and python-cloudflare, pebble's DNS-01 validation through
// pebble-challtestsrv, nginx. Only the Cloudflare API is a stand-in (test/support/fakeCloudflare.ts):
// the plugin reaches it through python-cloudflare's own `base_url` setting in root's
// ~/.cloudflare.cfg on the test host, and the stand-in hands each TXT record to challtestsrv.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect, type PeerCertificate } from "node:tls";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OFFLINE_SECRET } from "../../cli/offline";
import { wildcardCertName } from "../../plan/tls";
import { isSecret, reveal, T } from "../program/helpers";
import { startFakeCloudflare, type FakeCloudflare } from "../support/fakeCloudflare";
import { useTestHost } from "../support/fixture";
import { startPebble, type Pebble } from "../support/pebble";
import { describeReal } from "../support/prereq";
import { eventually } from "../support/proc";
import { evaluateFor, resource, runRecorded, type EvaluatedProgram } from "../support/program";

const ZONE_ID = "0123456789abcdef0123456789abcdef";
const MANIFEST = `
hosts:
  vps1:
    address: ADDRESS
    user: deploy
    hostKey: HOST_KEY
    memoryMb: 1024
dns:
  zones:
    example.com: ${ZONE_ID}
tls:
  mode: wildcard
  directory: DIRECTORY
apps:
  site:
    services:
      web: { image: "tenantry-test/web:1", port: 8000, route: / }
plans:
  small: { memoryMb: 64, cpus: 0.5 }
tenants:
  acme: { app: site, plan: small, host: vps1, slot: 1, domain: acme.example.com, ports: { web: 18000 } }
  globex: { app: site, plan: small, host: vps1, slot: 2, domain: globex.example.com, ports: { web: 18001 } }
  initech: { app: site, plan: small, host: vps1, slot: 3, domain: initech.example.com, tls: none, ports: { web: 18002 } }
`;

/** The certificate nginx presents for `servername`, verified against `ca`, or why not. */
function served(
  address: string,
  servername: string,
  ca: string,
): Promise<{ cert?: PeerCertificate; authorized?: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({
      host: address,
      port: 443,
      servername,
      ca: [ca],
      rejectUnauthorized: false,
      timeout: 5000,
    });
    socket.once("secureConnect", () => {
      resolve({ cert: socket.getPeerCertificate(), authorized: socket.authorized });
      socket.end();
    });
    socket.once("timeout", () => socket.destroy(new Error("no handshake within 5 s")));
    socket.once("error", (e: Error) => resolve({ error: e.message }));
  });
}

describeReal(
  "the wildcard mode: one *.<zone> certificate per host through DNS-01 (pebble)",
  ["certbot", "pebble", "pebble-challtestsrv", "openssl"],
  () => {
    const t = useTestHost(["acme", "globex", "initech"], { bootstrap: false });
    let pebble: Pebble;
    let cloudflare: FakeCloudflare;
    let program: EvaluatedProgram;
    const command = (name: string) => resource(program, T.command, name);
    /** The host's lineage: its name carries pebble's directory (plan/tls.ts). */
    let cert = "";
    let wildcard = "";
    const credentials = "/etc/letsencrypt/tenantry/cloudflare-example.com.ini";
    const orders = () =>
      pebble
        .log()
        .split("\n")
        .filter((l) => l.includes("Pulled a task"));

    beforeAll(async () => {
      pebble = await startPebble(t.host);
      cert = wildcardCertName("example.com", pebble.directory);
      wildcard = `vps1-${cert}`;
      // The stack secret tenantry:acmeDnsToken: the offline evaluation's placeholder for it.
      cloudflare = await startFakeCloudflare(t.host, { "example.com": ZONE_ID }, OFFLINE_SECRET);
      writeFileSync(
        t.host.file("/root/.cloudflare.cfg"),
        `[CloudFlare]\nbase_url = ${cloudflare.baseUrl}\n`,
      );
      program = await evaluateFor(
        t.host,
        MANIFEST.replaceAll("ADDRESS", t.host.address)
          .replaceAll("HOST_KEY", t.host.hostKey)
          .replaceAll("DIRECTORY", pebble.directory),
      );
      const boot = await runRecorded(t.host, command("vps1-bootstrap"));
      if (boot.code !== 0) throw new Error(`bootstrap failed: ${boot.stderr}`);
    }, 120_000);
    afterAll(async () => {
      await cloudflare?.close();
      await pebble?.stop();
    });

    it("issues *.example.com on the host step through DNS-01, with the token only in a 0600 file", async () => {
      const step = command(wildcard);
      // The token travels as a secret on stdin, never in the command text.
      expect(isSecret(step.inputs.stdin)).toBe(true);
      expect(String(reveal(step.inputs.stdin))).toBe(
        `dns_cloudflare_api_token = ${OFFLINE_SECRET}\n`,
      );
      expect(String(step.inputs.create)).not.toContain(OFFLINE_SECRET);
      expect(String(step.inputs.delete)).not.toContain(OFFLINE_SECRET);

      const issued = await runRecorded(t.host, step);
      expect(issued.code, issued.stderr).toBe(0);
      expect(issued.stdout).toContain(`tenantry: certificate ${cert} issued for *.example.com`);
      expect(issued.stdout + issued.stderr).not.toContain(OFFLINE_SECRET);

      // The plugin found the zone, set the challenge record, and removed it, every call with
      // the token; pebble validated against the record challtestsrv served meanwhile.
      expect(cloudflare.calls.every((c) => c.authorized)).toBe(true);
      expect(cloudflare.calls.map((c) => c.method)).toEqual(
        expect.arrayContaining(["GET", "POST", "DELETE"]),
      );
      expect(cloudflare.calls.filter((c) => c.method === "POST")).toHaveLength(1);
      expect(cloudflare.records.size).toBe(0);

      const file = t.host.file(credentials);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(t.host.file("/etc/letsencrypt/tenantry")).mode & 0o777).toBe(0o700);
      expect(readFileSync(file, "utf8")).toBe(`dns_cloudflare_api_token = ${OFFLINE_SECRET}\n`);
      const log = readFileSync(t.host.file("/var/log/letsencrypt/letsencrypt.log"), "utf8");
      expect(log).not.toContain(OFFLINE_SECRET);
    });

    it("serves every tenant under the zone with that certificate and asks for nothing for them", async () => {
      const before = orders().length;
      for (const tenant of ["acme", "globex"]) {
        expect((await runRecorded(t.host, command(`${tenant}-site`))).code).toBe(0);
        const tls = await runRecorded(t.host, command(`${tenant}-tls`));
        expect(tls.code, tls.stderr).toBe(0);
        expect(tls.stdout).not.toContain("issued");
        expect(tls.stdout).toContain(`tenantry: ${tenant} serves HTTPS; HTTP redirects to it`);
      }
      expect(orders()).toHaveLength(before);
      expect(cloudflare.calls.filter((c) => c.method === "POST")).toHaveLength(1);
      for (const name of ["acme.example.com", "globex.example.com"]) {
        const got = await eventually(`HTTPS for ${name}`, async () => {
          const s = await served(t.host.address, name, pebble.root);
          if (s.cert === undefined) throw new Error(s.error);
          return s;
        });
        expect(got.authorized).toBe(true);
        expect(got.cert?.subjectaltname).toBe("DNS:*.example.com");
      }
      // tls: none: no TLS step at all, HTTP only, and no certificate for its name.
      expect(program.resources.some((r) => r.name === "initech-tls")).toBe(false);
      expect((await runRecorded(t.host, command("initech-site"))).code).toBe(0);
      await runRecorded(t.host, command("vps1-nginx-reload"));
      await t.expectAnswer("initech.example.com", "200 tenant initech");
      // No OCSP responder in the certificate (as Let's Encrypt's now): no stapling snippet.
      expect(existsSync(t.host.file("/etc/nginx/tenantry/tls/acme/stapling.conf"))).toBe(false);
      expect(
        (await served(t.host.address, "initech.example.com", pebble.root)).cert,
      ).toBeUndefined();
    });

    it("asks for nothing on the next apply of the host step while the certificate is valid", async () => {
      const again = await runRecorded(t.host, command(wildcard));
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain("is valid and not due; not renewed");
      expect(cloudflare.calls.filter((c) => c.method === "POST")).toHaveLength(1);
    });

    it("deletes the certificate and its credentials only after the tenants it serves", async () => {
      const early = await runRecorded(t.host, command(wildcard), "delete");
      expect(early.code).not.toBe(0);
      expect(early.stderr).toContain(`a site still serves ${cert}`);
      expect(existsSync(t.host.file(credentials))).toBe(true);

      for (const tenant of ["acme", "globex"]) {
        const removed = await runRecorded(t.host, command(`${tenant}-tls`), "delete");
        expect(removed.code, removed.stderr).toBe(0);
        // The shared lineage stays while the host step holds it.
        expect(removed.stdout).not.toContain("deleted");
      }
      const done = await runRecorded(t.host, command(wildcard), "delete");
      expect(done.code, done.stderr).toBe(0);
      expect(existsSync(t.host.file(credentials))).toBe(false);
      expect(existsSync(t.host.file(`/etc/letsencrypt/renewal/${cert}.conf`))).toBe(false);
      await t.expectAnswer("acme.example.com", "200 tenant acme");
    });
  },
);
