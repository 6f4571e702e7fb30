// HTTPS for acme tenants on a real host against a real ACME server: the program's own TLS
// steps (evaluated under mocks, run over SSH as `deploy`) ask Debian's certbot on the host for
// certificates from pebble, which validates HTTP-01 through the site tenantry serves on the
// host's nginx. A TLS client that trusts only pebble's root checks what nginx serves; sslscan
// checks which protocols and ciphers it accepts. Renewal runs as Debian's certbot.timer runs it.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request } from "node:https";
import { join } from "node:path";
import { connect, type PeerCertificate } from "node:tls";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { HostStatus } from "../../cli/commands/status";
import { acmeCertName } from "../../plan/tls";
import { parseNotAfter } from "../../remote/status";
import { DEPLOY_HOOK, DEPLOY_HOOK_SETTINGS, deployHookScript } from "../../remote/tls";
import { tenantry } from "../cli/run";
import { TLS_PARAMS } from "../../remote/nginx";
import { T } from "../program/helpers";
import { ask } from "../support/backends";
import { useTestHost } from "../support/fixture";
import { ocspResponderFor, startPebble, type Pebble } from "../support/pebble";
import { describeReal } from "../support/prereq";
import { eventually, run } from "../support/proc";
import { evaluateFor, resource, runRecorded, type EvaluatedProgram } from "../support/program";

const MANIFEST = `
hosts:
  vps1:
    address: ADDRESS
    user: deploy
    hostKey: HOST_KEY
    memoryMb: 1024
tls:
  directory: DIRECTORY
  email: ops@example.com
apps:
  site:
    services:
      web: { image: "tenantry-test/web:1", port: 8000, route: / }
plans:
  small: { memoryMb: 64, cpus: 0.5 }
tenants:
  acme:
    app: site
    plan: small
    host: vps1
    slot: 1
    domain: acme.example.com
    aliases: [www.acme.example.com]
    hsts: true
    ports: { web: 18000 }
  globex:
    app: site
    plan: small
    host: vps1
    slot: 2
    domain: globex.example.com
    ports: { web: 18001 }
`;

interface Handshake {
  readonly ok: boolean;
  readonly error?: string;
  readonly authorized?: boolean;
  readonly authorizationError?: string;
  readonly cert?: PeerCertificate;
  readonly alpn?: string | false | null;
}

/** A TLS handshake with nginx on the host for `servername`, trusting only `ca`. */
function handshake(
  address: string,
  servername: string | undefined,
  ca: string,
): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({
      host: address,
      port: 443,
      ...(servername === undefined ? {} : { servername }),
      ca: [ca],
      ALPNProtocols: ["h2", "http/1.1"],
      rejectUnauthorized: false,
      timeout: 5000,
    });
    socket.once("secureConnect", () => {
      resolve({
        ok: true,
        authorized: socket.authorized,
        authorizationError: socket.authorizationError?.toString(),
        cert: socket.getPeerCertificate(),
        alpn: socket.alpnProtocol,
      });
      socket.end();
    });
    socket.once("timeout", () => socket.destroy(new Error("no handshake within 5 s")));
    socket.once("error", (e: Error) => resolve({ ok: false, error: e.message }));
  });
}

interface HttpsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** GET https://domain/path from nginx on the host, verifying the certificate against `ca`. */
function httpsGet(address: string, domain: string, path: string, ca: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address,
        port: 443,
        servername: domain,
        path,
        headers: { Host: domain },
        ca,
        agent: false,
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 5 s")));
    req.on("error", reject);
    req.end();
  });
}

/** A plain HTTP GET to nginx on :80 with the Host header: status and Location. */
function httpGet(
  address: string,
  domain: string,
  path: string,
): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: address, port: 80, path, headers: { Host: domain }, agent: false, timeout: 5000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describeReal(
  "HTTPS for acme tenants against a real ACME server (pebble)",
  ["certbot", "pebble", "pebble-challtestsrv", "sslscan", "openssl"],
  () => {
    const t = useTestHost(["acme", "globex"], { bootstrap: false });
    let pebble: Pebble;
    let program: EvaluatedProgram;
    const command = (name: string) => resource(program, T.command, name);
    /** certbot's lineage for acme: its name carries pebble's directory (plan/tls.ts). */
    let cert = "";
    const renewalConf = () => `/etc/letsencrypt/renewal/${cert}.conf`;
    /** The serial of the certificate on disk (certbot's live link). */
    const serialOnDisk = async () =>
      (
        await t.host.execOk("openssl", [
          "x509",
          "-noout",
          "-serial",
          "-in",
          `/etc/letsencrypt/live/${cert}/fullchain.pem`,
        ])
      )
        .trim()
        .replace(/^serial=/, "")
        .toUpperCase();

    beforeAll(async () => {
      pebble = await startPebble(t.host, { ocspResponder: true });
      cert = acmeCertName("acme", pebble.directory);
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
      await pebble?.stop();
    });

    it("issues acme's certificate through the site tenantry serves, then answers HTTPS with it", async () => {
      const site = await runRecorded(t.host, command("acme-site"));
      expect(site.code, site.stderr).toBe(0);
      const tls = await runRecorded(t.host, command("acme-tls"));
      expect(tls.code, tls.stderr).toBe(0);
      expect(tls.stdout).toContain(
        `tenantry: certificate ${cert} issued for acme.example.com, www.acme.example.com`,
      );
      expect(tls.stdout).toContain("tenantry: acme serves HTTPS; HTTP redirects to it");

      for (const name of ["acme.example.com", "www.acme.example.com"]) {
        // A reload takes effect as nginx's new workers start: wait for them, bounded.
        const hs = await eventually(`HTTPS for ${name}`, async () => {
          const h = await handshake(t.host.address, name, pebble.root);
          if (!h.ok) throw new Error(h.error);
          return h;
        });
        expect(hs.authorized, hs.authorizationError).toBe(true);
        expect(hs.cert?.subjectaltname).toBe("DNS:acme.example.com, DNS:www.acme.example.com");
        expect(hs.alpn).toBe("h2");
      }
      const page = await httpsGet(t.host.address, "acme.example.com", "/", pebble.root);
      expect(page.status).toBe(200);
      expect(page.body).toBe("tenant acme");
      expect(page.headers["strict-transport-security"]).toBe("max-age=31536000");
      expect((await httpsGet(t.host.address, "acme.example.com", "/", pebble.root)).body).toBe(
        "tenant acme",
      );
    });

    it("staples OCSP for a certificate that names a responder", async () => {
      const uri = await t.host.execOk("openssl", [
        "x509",
        "-noout",
        "-ocsp_uri",
        "-in",
        `/etc/letsencrypt/live/${cert}/fullchain.pem`,
      ]);
      expect(uri.trim()).toBe(ocspResponderFor(t.host));
      expect(readFileSync(t.host.file("/etc/nginx/tenantry/tls/acme/stapling.conf"), "utf8")).toBe(
        `ssl_stapling on;\nssl_stapling_verify on;\nssl_trusted_certificate /etc/letsencrypt/live/${cert}/chain.pem;\n`,
      );
      const dump = await t.host.execOk("nginx", ["-T"]);
      expect(dump).toContain("# configuration file /etc/nginx/tenantry/tls/acme/stapling.conf:");
      expect((await t.nginxTest()).code).toBe(0);
    });

    it("redirects HTTP to HTTPS, except the ACME challenge location renewals need", async () => {
      const home = await httpGet(t.host.address, "acme.example.com", "/some/page?x=1");
      expect(home.status).toBe(301);
      expect(home.location).toBe("https://acme.example.com/some/page?x=1");
      const challenge = await httpGet(
        t.host.address,
        "acme.example.com",
        "/.well-known/acme-challenge/no-such-token",
      );
      expect(challenge.status).toBe(404);
      // A name nobody claims still gets no answer on :80.
      expect((await ask(t.host.address, 80, "unknown.example.com")).kind).toBe("closed");
    });

    it("keeps the private key 0600 and out of every command's text and output", async () => {
      const archive = t.host.file(`/etc/letsencrypt/archive/${cert}`);
      const keys = readdirSync(archive).filter((f) => f.startsWith("privkey"));
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) {
        expect(statSync(`${archive}/${k}`).mode & 0o777).toBe(0o600);
        const key = readFileSync(`${archive}/${k}`, "utf8");
        const body = key.split("\n")[1]!;
        for (const name of ["acme-site", "acme-tls", "vps1-bootstrap"]) {
          const c = command(name);
          expect(JSON.stringify(c.inputs)).not.toContain(body);
        }
        const again = await runRecorded(t.host, command("acme-tls"));
        expect(again.stdout + again.stderr).not.toContain(body);
      }
    });

    it("asks for nothing on the next apply while the certificate is valid", async () => {
      const before = await serialOnDisk();
      const again = await runRecorded(t.host, command("acme-tls"));
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(
        `tenantry: certificate ${cert} is valid and not due; not renewed`,
      );
      expect(again.stdout).toContain("tenantry: acme HTTPS unchanged");
      expect(await serialOnDisk()).toBe(before);
    });

    it("status shows the certificate's expiry, read through the sudoers line in the one SSH session", async () => {
      const manifest = join(t.host.dir, "tenants.yaml");
      writeFileSync(
        manifest,
        MANIFEST.replaceAll("ADDRESS", t.host.address)
          .replaceAll("HOST_KEY", t.host.hostKey)
          .replaceAll("DIRECTORY", pebble.directory),
      );
      const live = `/etc/letsencrypt/live/${cert}/fullchain.pem`;
      const expires = parseNotAfter(
        await t.host.execOk("openssl", ["x509", "-enddate", "-noout", "-in", live]),
      )!;
      const daysLeft = Math.floor((Date.parse(expires) - Date.now()) / 86_400_000);
      const sessions = () =>
        (t.host.sshd.log().match(/Accepted publickey for deploy/g) ?? []).length;
      const status = (...args: string[]) =>
        tenantry(t.host.dir, "status", ...args, "-f", manifest, "-i", t.host.keyPath);

      const before = sessions();
      const json = await status("--json");
      expect(sessions() - before).toBe(1);
      const { hosts } = JSON.parse(json.stdout) as { hosts: HostStatus[] };
      const byTenant = Object.fromEntries(hosts[0]!.tenants.map((x) => [x.tenant, x]));
      // deploy cannot read certbot's live directory itself; status asks through sudo -n.
      expect(statSync(t.host.file("/etc/letsencrypt/live")).mode & 0o777).toBe(0o700);
      expect(byTenant.acme!.certificate).toEqual({ expires, daysLeft });
      expect(byTenant.acme!.problems.filter((p) => p.includes("certificate"))).toEqual([]);
      // globex's TLS step never ran here: no certificate, and status says so.
      expect(byTenant.globex!.certificate).toBeNull();
      expect(byTenant.globex!.problems).toContain(
        `no certificate at /etc/letsencrypt/live/${acmeCertName("globex", pebble.directory)}/fullchain.pem: HTTPS is not set up (pulumi up's TLS step gets it, or says why it cannot)`,
      );

      const human = await status("acme");
      expect(human.stdout).toContain(
        `\n  acme: certificate expires ${expires.slice(0, 10)} (${daysLeft} days)\n`,
      );
    });

    it("gives a name no tenant claims, and a client without SNI, no certificate at all", async () => {
      for (const name of ["unknown.example.com", undefined]) {
        const hs = await handshake(t.host.address, name, pebble.root);
        expect(hs.ok).toBe(false);
        expect(hs.cert).toBeUndefined();
        expect(hs.error).toMatch(/unrecognized name|handshake failure|alert/i);
      }
    });

    it("accepts no protocol below TLS 1.2 and no weak cipher (sslscan)", async () => {
      const scan = await run(
        "sslscan",
        ["--no-colour", "--sni-name=acme.example.com", `${t.host.address}:443`],
        { timeoutMs: 120_000 },
      );
      expect(scan.code, scan.stderr).toBe(0);
      const out = scan.stdout;
      for (const p of ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"]) {
        expect(out).toMatch(new RegExp(`^${p.replace(".", "\\.")}\\s+disabled`, "m"));
      }
      expect(out).toMatch(/^TLSv1\.2\s+enabled/m);
      expect(out).toMatch(/^TLSv1\.3\s+enabled/m);
      const accepted = out
        .split("\n")
        .filter((l) => /^(Preferred|Accepted)\s/.test(l))
        .map((l) => l.trim().split(/\s+/)[4]!);
      expect(accepted.length).toBeGreaterThan(0);
      const allowed12 = TLS_PARAMS.find((p) => p.startsWith("ssl_ciphers "))!
        .slice("ssl_ciphers ".length, -1)
        .split(":");
      for (const cipher of accepted) {
        const tls13 = [
          "TLS_AES_128_GCM_SHA256",
          "TLS_AES_256_GCM_SHA384",
          "TLS_CHACHA20_POLY1305_SHA256",
        ];
        expect([...allowed12, ...tls13], `sslscan accepted ${cipher}`).toContain(cipher);
        expect(cipher).not.toMatch(/NULL|RC4|DES|MD5|EXP|anon|CBC|SHA$/);
      }
    });

    it("fails the step with the ACME server's own words when validation fails, and keeps serving HTTP", async () => {
      // globex's name does not point at this host yet: nothing answers its port 80 there.
      await pebble.pointAt("globex.example.com", t.host.machineAddress);
      expect((await runRecorded(t.host, command("globex-site"))).code).toBe(0);
      const failed = await runRecorded(t.host, command("globex-tls"));
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toContain(
        "tenantry: no certificate for globex.example.com from " + pebble.directory,
      );
      expect(failed.stderr).toContain("HTTPS is not set up, and HTTP keeps serving");
      // certbot's report of the CA's problem: the domain, its type and pebble's detail.
      expect(failed.stderr).toContain("Domain: globex.example.com");
      expect(failed.stderr).toMatch(/Detail: .*(connection refused|Connection refused)/);
      // One attempt, no loop: the client answered one challenge for the name (pebble then makes
      // its validation connections for that one task).
      const attempts = pebble
        .log()
        .split("\n")
        .filter((l) => l.includes("Pulled a task") && l.includes('Value:"globex.example.com"'));
      expect(attempts, pebble.log()).toHaveLength(1);

      await t.expectAnswer("globex.example.com", "200 tenant globex");
      const hs = await handshake(t.host.address, "globex.example.com", pebble.root);
      expect(hs.ok).toBe(false);
      // The other tenant is untouched.
      expect((await httpsGet(t.host.address, "acme.example.com", "/", pebble.root)).body).toBe(
        "tenant acme",
      );
    });

    it("renews through certbot's timer command and reloads nginx through tenantry's lock", async () => {
      // The hook is the same text on every host; the host's nginx dir and config are its data.
      expect(readFileSync(t.host.file(DEPLOY_HOOK), "utf8")).toBe(deployHookScript().text);
      expect(statSync(t.host.file(DEPLOY_HOOK)).mode & 0o777).toBe(0o755);
      expect(readFileSync(t.host.file(DEPLOY_HOOK_SETTINGS), "utf8")).toBe(
        "dir=/etc/nginx/tenantry\nconfig=\n",
      );
      const before = await serialOnDisk();
      const served = (await handshake(t.host.address, "acme.example.com", pebble.root)).cert!;
      expect(served.serialNumber.toUpperCase()).toBe(before);
      // Time passing: the certificate is now inside certbot's renewal window.
      const days = Math.ceil((Date.parse(served.valid_to) - Date.now()) / 86_400_000) + 1;
      const conf = t.host.file(renewalConf());
      const text = readFileSync(conf, "utf8");
      // A top-level key: it goes before the file's first [section].
      writeFileSync(
        conf,
        `renew_before_expiry = ${days} days\n` + text.replace(/^renew_before_expiry = .*\n/m, ""),
      );
      // What Debian's certbot.service runs, word for word.
      const unit = readFileSync("/lib/systemd/system/certbot.service", "utf8");
      const execStart = /^ExecStart=(.+)$/m.exec(unit)![1]!.split(" ");
      // Hold tenantry's host lock for a moment: the deploy hook must wait for it.
      const lock = "/etc/nginx/tenantry/lock";
      const holder = t.host.exec("flock", [lock, "sleep", "3"]);
      await eventually("the lock to be held", async () =>
        (await t.host.exec("flock", ["-n", lock, "true"])).code !== 0 ? true : undefined,
      );
      const started = Date.now();
      const renew = await t.host.exec(execStart[0]!, execStart.slice(1));
      const took = Date.now() - started;
      await holder;
      expect(renew.code, renew.stderr + renew.stdout).toBe(0);
      expect(took).toBeGreaterThanOrEqual(1000);
      const after = await serialOnDisk();
      expect(after).not.toBe(before);
      // nginx serves the renewed certificate: the hook reloaded it.
      await eventually("nginx to serve the renewed certificate", async () => {
        const now = (await handshake(t.host.address, "acme.example.com", pebble.root)).cert;
        return now?.serialNumber.toUpperCase() === after ? true : undefined;
      });
      const log = readFileSync(t.host.file("/var/log/letsencrypt/letsencrypt.log"), "utf8");
      expect(log).toContain(`tenantry: nginx reloaded for /etc/letsencrypt/live/${cert}`);
    });

    it("serves a suspended tenant's maintenance page over HTTPS too, and its HTTP still redirects", async () => {
      const suspended = await evaluateFor(
        t.host,
        MANIFEST.replaceAll("ADDRESS", t.host.address)
          .replaceAll("HOST_KEY", t.host.hostKey)
          .replaceAll("DIRECTORY", pebble.directory)
          .replace(
            "    domain: acme.example.com\n",
            "    domain: acme.example.com\n    state: suspended\n",
          ),
      );
      const step = (name: string) => resource(suspended, T.command, name);
      for (const name of ["acme-maintenance", "acme-site", "acme-tls", "vps1-nginx-reload"]) {
        const result = await runRecorded(t.host, step(name));
        expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      }
      const page = await eventually("the HTTPS maintenance page", async () => {
        const answer = await httpsGet(t.host.address, "acme.example.com", "/orders/7", pebble.root);
        return answer.status === 503 ? answer : undefined;
      });
      expect(page.headers["retry-after"]).toBeDefined();
      expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(page.body).toContain("<");
      // The certificate is the tenant's own, and HTTP still goes to HTTPS (and renewals to
      // the ACME challenge location, which the maintenance site keeps).
      const hs = await handshake(t.host.address, "acme.example.com", pebble.root);
      expect(hs.authorized, hs.authorizationError).toBe(true);
      const plain = await httpGet(t.host.address, "acme.example.com", "/orders/7");
      expect(plain.status).toBe(301);
      // Back to active: the app again, on both.
      for (const name of ["acme-site", "acme-tls", "vps1-nginx-reload"]) {
        const result = await runRecorded(t.host, command(name));
        expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      }
      await eventually("the app over HTTPS again", async () =>
        (await httpsGet(t.host.address, "acme.example.com", "/", pebble.root)).body ===
        "tenant acme"
          ? true
          : undefined,
      );
    });

    it("removes the tenant's HTTPS and its renewal config when the tenant goes", async () => {
      const removed = await runRecorded(t.host, command("acme-tls"), "delete");
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.stdout).toContain(
        `tenantry: certificate ${cert} deleted, with its renewal config`,
      );
      expect(existsSync(t.host.file(renewalConf()))).toBe(false);
      expect(existsSync(t.host.file(`/etc/letsencrypt/live/${cert}`))).toBe(false);
      // Until the site goes too, it serves HTTP again; HTTPS has nothing for the name.
      await t.expectAnswer("acme.example.com", "200 tenant acme");
      expect((await handshake(t.host.address, "acme.example.com", pebble.root)).ok).toBe(false);
      const site = await runRecorded(t.host, command("acme-site"), "delete");
      expect(site.code, site.stderr).toBe(0);
      await t.expectAnswer("acme.example.com", "closed without response");
      const again = await runRecorded(t.host, command("acme-tls"), "delete");
      expect(again.code, again.stderr).toBe(0);
    });
  },
);
