// Stub tenant backends (each answers with its tenant's name) and a client that asks nginx for a
// Host, so a test sees which backend nginx routed a request to, or that it closed the connection.
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import type { Namespace } from "./netns";
import { eventually, GiveUp } from "./proc";

export interface Backend {
  readonly tenant: string;
  readonly port: number;
  close(): Promise<void>;
}

const SERVER = join(__dirname, "backendServer.cjs");

/**
 * An HTTP server on the host's 127.0.0.1:`port` that answers every request with
 * `tenant <name>`: where nginx on the host proxies a tenant's site to.
 */
export async function startBackend(
  host: { readonly dir: string; ns: Namespace },
  tenant: string,
  port: number,
): Promise<Backend> {
  const log = join(host.dir, `backend-${tenant}.log`);
  const daemon = host.ns.daemon(process.execPath, [SERVER, tenant, String(port)], log);
  await eventually(`backend ${tenant} to listen`, () => {
    if (!daemon.isRunning()) throw new GiveUp(`backend exited: ${readFileSync(log, "utf8")}`);
    return readFileSync(log, "utf8").includes("ready") ? true : undefined;
  });
  return { tenant, port, close: () => daemon.stop() };
}

export type Answer =
  | { readonly kind: "response"; readonly status: number; readonly body: string }
  /** nginx's 444: the connection is closed without any response. */
  | { readonly kind: "closed"; readonly error: string };

/** GET `path` from nginx at `address`:`port` with the given Host header; no keep-alive, 3 s at most. */
export function ask(address: string, port: number, host: string, path = "/"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: address, port, path, headers: { Host: host }, agent: false, timeout: 3000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ kind: "response", status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from nginx within 3 s for ${host}`)));
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.message === "socket hang up") {
        resolve({ kind: "closed", error: error.message });
      } else {
        reject(error);
      }
    });
    req.end();
  });
}

/** The body nginx returns for a Host, or a description of what happened instead. */
export async function answerText(
  address: string,
  port: number,
  host: string,
  path = "/",
): Promise<string> {
  const answer = await ask(address, port, host, path);
  return answer.kind === "closed" ? "closed without response" : `${answer.status} ${answer.body}`;
}
