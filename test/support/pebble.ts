// A real ACME server for the TLS tests: Debian's pebble, with pebble-challtestsrv as the DNS
// server it resolves names through (every name answers with the test host's address, so pebble
// validates HTTP-01 against the nginx tenantry serves there, and DNS-01 against the TXT records
// set through challtestsrv's management API). Both listen on the test machine's side of the
// host's veth only, run tracked by pid, and stop with the suite. Pebble's listener presents a
// certificate from a throwaway CA made here, which the host's private /etc/ssl trusts, as an
// operator would add a private CA; pebble's own issuing root (new at every start) is what the
// tests' TLS client trusts.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import type { TestHost } from "./host";
import { eventually, GiveUp, runOk, startDaemon, type Daemon } from "./proc";

export const PEBBLE_PORT = 14000;
const MANAGEMENT_PORT = 15000;
const DNS_PORT = 8053;
const CHALLTESTSRV_PORT = 8055;

export interface Pebble {
  /** The ACME directory URL, as tls.directory in a manifest. */
  readonly directory: string;
  /** Pebble's issuing root (PEM): what a TLS client of the tenants' sites trusts. */
  readonly root: string;
  /** Makes `name` resolve to `address` (a name that does not point at the host yet). */
  pointAt(name: string, address: string): Promise<void>;
  /** Log of pebble (orders, validations, errors). */
  log(): string;
  stop(): Promise<void>;
}

/** GET over HTTPS trusting `ca`, or plain HTTP POST: the body, failing on a non-2xx status. */
function fetchText(
  url: string,
  options: { ca?: string; method?: string; body?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const send = u.protocol === "https:" ? request : httpRequest;
    const req = send(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: options.method ?? "GET",
        ca: options.ca,
        agent: false,
        timeout: 5000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () =>
          (res.statusCode ?? 0) < 300
            ? resolve(body)
            : reject(new Error(`${url}: HTTP ${res.statusCode}: ${body}`)),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within 5 s`)));
    req.on("error", reject);
    req.end(options.body);
  });
}

/** A CA and a certificate for `ip`, made with openssl (P-256, two days). */
async function listenerCertificate(dir: string, ip: string): Promise<{ ca: string }> {
  const f = (n: string) => join(dir, n);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await runOk("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
    "-days",
    "2",
    "-subj",
    "/CN=tenantry test: pebble listener CA",
  ]);
  await runOk("openssl", [
    "req",
    ...ec,
    "-keyout",
    f("listener.key"),
    "-out",
    f("listener.csr"),
    "-subj",
    "/CN=pebble",
  ]);
  writeFileSync(f("listener.ext"), `subjectAltName=IP:${ip}\n`);
  await runOk("openssl", [
    "x509",
    "-req",
    "-in",
    f("listener.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    f("listener.ext"),
    "-out",
    f("listener.pem"),
  ]);
  return { ca: readFileSync(f("ca.pem"), "utf8") };
}

/** The OCSP responder URL pebble writes into certificates, when asked to (nothing serves it). */
export const ocspResponderFor = (host: TestHost): string => `http://${host.machineAddress}:4002/`;

export async function startPebble(
  host: TestHost,
  options: { ocspResponder?: boolean } = {},
): Promise<Pebble> {
  const dir = join(host.dir, "pebble");
  mkdirSync(dir, { recursive: true });
  const ip = host.machineAddress;
  const { ca } = await listenerCertificate(dir, ip);
  // Pebble validates HTTP-01 on port 80 and TLS-ALPN-01 on 443 of the name's address, as
  // Let's Encrypt does (its defaults, 5002 and 5001, suit its own test harness).
  writeFileSync(
    join(dir, "pebble.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `${ip}:${PEBBLE_PORT}`,
        managementListenAddress: `${ip}:${MANAGEMENT_PORT}`,
        certificate: join(dir, "listener.pem"),
        privateKey: join(dir, "listener.key"),
        httpPort: 80,
        tlsPort: 443,
        // A responder URL in the certificates, as CAs that offer OCSP write one (Let's Encrypt
        // stopped in 2025); what nginx staples is not checked here, only that it is configured.
        ocspResponderURL: options.ocspResponder === true ? ocspResponderFor(host) : "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const daemons: Daemon[] = [];
  const stop = async () => {
    for (const d of daemons.reverse()) await d.stop();
  };
  try {
    const dnsLog = join(dir, "challtestsrv.log");
    const dns = startDaemon(
      "pebble-challtestsrv",
      [
        "-dns01",
        `${ip}:${DNS_PORT}`,
        "-http01",
        "",
        "-https01",
        "",
        "-tlsalpn01",
        "",
        "-management",
        `${ip}:${CHALLTESTSRV_PORT}`,
        "-defaultIPv4",
        host.address,
        "-defaultIPv6",
        "",
      ],
      dnsLog,
    );
    daemons.push(dns);
    const pebbleLog = join(dir, "pebble.log");
    // No artificial sleeps before validations, no nonces rejected at random: each test sees
    // one validation per challenge, as a client of Let's Encrypt would.
    const pebble = startDaemon(
      "env",
      [
        "PEBBLE_VA_NOSLEEP=1",
        "PEBBLE_WFE_NONCEREJECT=0",
        "PEBBLE_AUTHZREUSE=0",
        "pebble",
        "-config",
        join(dir, "pebble.json"),
        "-dnsserver",
        `${ip}:${DNS_PORT}`,
      ],
      pebbleLog,
    );
    daemons.push(pebble);
    const directory = `https://${ip}:${PEBBLE_PORT}/dir`;
    await eventually(
      "pebble to serve its directory",
      async () => {
        if (!pebble.isRunning())
          throw new GiveUp(`pebble exited: ${readFileSync(pebbleLog, "utf8")}`);
        if (!dns.isRunning())
          throw new GiveUp(`challtestsrv exited: ${readFileSync(dnsLog, "utf8")}`);
        return (await fetchText(directory, { ca }).catch(() => "")).includes("newOrder")
          ? true
          : undefined;
      },
      20_000,
    );
    const root = await fetchText(`https://${ip}:${MANAGEMENT_PORT}/roots/0`, { ca });
    // The host trusts the listener's CA as an operator would trust a private CA: in its (private)
    // /etc/ssl/certs bundle, which Debian's certbot (python3-requests, certifi) reads.
    appendFileSync(host.file("/etc/ssl/certs/ca-certificates.crt"), `\n${ca}`);
    const management = `http://${ip}:${CHALLTESTSRV_PORT}`;
    return {
      directory,
      root,
      pointAt: async (name, address) => {
        await fetchText(`${management}/add-a`, {
          method: "POST",
          body: JSON.stringify({ host: `${name}.`, addresses: [address] }),
        });
      },
      log: () => readFileSync(pebbleLog, "utf8"),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** challtestsrv's management API, for the fake Cloudflare API to set DNS-01 records with. */
export function challtestsrvManagement(host: TestHost): string {
  return `http://${host.machineAddress}:${CHALLTESTSRV_PORT}`;
}

/** POSTs a JSON body to challtestsrv's management API. */
export async function challtestsrv(host: TestHost, path: string, body: unknown): Promise<void> {
  await fetchText(`${challtestsrvManagement(host)}${path}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
}
