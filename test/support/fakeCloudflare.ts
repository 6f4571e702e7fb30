// A stand-in for the Cloudflare API, for the DNS-01 test: the few v4 calls certbot's Cloudflare
// plugin makes (find the zone, add a TXT record, find it again, delete it), answered as the API
// documents them, with the records passed on to pebble-challtestsrv, the DNS pebble asks. It is
// the one part of the wildcard path that is not the real thing: the Cloudflare API itself
// cannot be reached from here. It listens on the test machine's side of the host's veth and
// checks the bearer token on every call.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestHost } from "./host";
import { challtestsrv } from "./pebble";

export interface FakeCloudflare {
  /** The API base, as python-cloudflare's `base_url`. */
  readonly baseUrl: string;
  /** Every call: method, path and whether the token was the expected one. */
  readonly calls: ReadonlyArray<{ method: string; path: string; authorized: boolean }>;
  /** TXT records it holds now: name → values. */
  readonly records: ReadonlyMap<string, readonly string[]>;
  close(): Promise<void>;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}

export async function startFakeCloudflare(
  host: TestHost,
  zones: Readonly<Record<string, string>>,
  token: string,
): Promise<FakeCloudflare> {
  const calls: Array<{ method: string; path: string; authorized: boolean }> = [];
  const records = new Map<string, { id: string; zone: string; name: string; content: string }>();
  let next = 1;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const authorized = req.headers.authorization === `Bearer ${token}`;
      calls.push({ method: req.method ?? "", path: url.pathname, authorized });
      const reply = (status: number, result: unknown, errors: unknown[] = []) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            success: status < 300,
            errors,
            messages: [],
            result,
            ...(Array.isArray(result)
              ? {
                  result_info: {
                    page: 1,
                    per_page: 20,
                    count: result.length,
                    total_count: result.length,
                  },
                }
              : {}),
          }),
        );
      };
      if (!authorized) return reply(403, null, [{ code: 10000, message: "Authentication error" }]);
      const parts = url.pathname.replace(/^\/client\/v4\//, "").split("/");
      if (parts[0] !== "zones") return reply(404, null, [{ code: 7003, message: "No route" }]);
      if (parts.length === 1) {
        const name = url.searchParams.get("name");
        const found = Object.entries(zones).filter(([z]) => name === null || z === name);
        return reply(
          200,
          found.map(([z, id]) => ({ id, name: z, status: "active" })),
        );
      }
      const zoneId = parts[1]!;
      if (!Object.values(zones).includes(zoneId) || parts[2] !== "dns_records") {
        return reply(404, null, [{ code: 7003, message: "No route" }]);
      }
      if (req.method === "POST" && parts.length === 3) {
        const data = JSON.parse(await body(req)) as { type: string; name: string; content: string };
        if (data.type !== "TXT")
          return reply(400, null, [{ code: 9000, message: "TXT only here" }]);
        const id = `rec${next++}`;
        records.set(id, { id, zone: zoneId, name: data.name, content: data.content });
        await challtestsrv(host, "/set-txt", { host: `${data.name}.`, value: data.content });
        return reply(200, { id, type: "TXT", name: data.name, content: data.content });
      }
      if (req.method === "GET" && parts.length === 3) {
        const name = url.searchParams.get("name");
        const content = url.searchParams.get("content");
        const found = [...records.values()].filter(
          (r) =>
            r.zone === zoneId &&
            (name === null || r.name === name) &&
            (content === null || r.content === content),
        );
        return reply(
          200,
          found.map((r) => ({ ...r, type: "TXT" })),
        );
      }
      if (req.method === "DELETE" && parts.length === 4) {
        const record = records.get(parts[3]!);
        if (record === undefined) return reply(404, null, [{ code: 81044, message: "Not found" }]);
        records.delete(record.id);
        await challtestsrv(host, "/clear-txt", { host: `${record.name}.` });
        return reply(200, { id: record.id });
      }
      return reply(405, null, [{ code: 10000, message: "Method not allowed" }]);
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host.machineAddress, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://${host.machineAddress}:${port}/client/v4`,
    calls,
    get records() {
      const out = new Map<string, string[]>();
      for (const r of records.values()) out.set(r.name, [...(out.get(r.name) ?? []), r.content]);
      return out;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
