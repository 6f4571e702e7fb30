// Stub tenant backends (each answers with its tenant's name) and a client that asks nginx for a
// Host, so a test sees which backend nginx routed a request to, or that it closed the connection.
import { createServer, request, type Server } from "node:http";

export interface Backend {
  readonly tenant: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 that answers every request with `tenant <name>`. */
export function startBackend(tenant: string): Promise<Backend> {
  const server: Server = createServer((req, res) => {
    res.setHeader("Connection", "close");
    res.end(`tenant ${tenant}`);
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error("backend has no TCP address"));
        return;
      }
      resolve({
        tenant,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export type Answer =
  | { readonly kind: "response"; readonly status: number; readonly body: string }
  /** nginx's 444: the connection is closed without any response. */
  | { readonly kind: "closed"; readonly error: string };

/** GET `path` from nginx on `port` with the given Host header; no keep-alive, 3 s at most. */
export function ask(port: number, host: string, path = "/"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, headers: { Host: host }, agent: false, timeout: 3000 },
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
export async function answerText(port: number, host: string, path = "/"): Promise<string> {
  const answer = await ask(port, host, path);
  return answer.kind === "closed" ? "closed without response" : `${answer.status} ${answer.body}`;
}
