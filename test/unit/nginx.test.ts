// The nginx text tenantry installs, compared whole: it is what the host runs.
import { describe, expect, it } from "vitest";
import { siteFileName, siteMarker } from "../../core/names";
import { normalizeRoute } from "../../core/routes";
import { markerLine, renderHostInclude, renderSite } from "../../remote/nginx";

/** What every location passes on to its service, after its proxy_pass line. */
const PROXY_LINES = [
  "        proxy_http_version 1.1;",
  "        proxy_set_header Host $host;",
  "        proxy_set_header X-Real-IP $remote_addr;",
  "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
  "        proxy_set_header X-Forwarded-Proto $scheme;",
  "        proxy_set_header X-Forwarded-Host $host;",
  "        proxy_set_header Upgrade $http_upgrade;",
  "        proxy_set_header Connection $tenantry_connection_upgrade;",
  "        proxy_read_timeout 300s;",
];

describe("renderSite", () => {
  it("renders a two-route site with aliases, longest prefix first", () => {
    const text = renderSite({
      tenant: "acme",
      marker: siteMarker("acme", "vps1"),
      domains: ["acme.example.com", "www.acme.example.com"],
      listen: ["80", "[::]:80"],
      maxBodySize: "50m",
      routes: [
        { service: "web", path: "/", port: 10000 },
        { service: "api", path: "/api", port: 10001 },
      ],
    });
    expect(text).toBe(
      [
        "# tenantry-site: acme@vps1",
        "# Managed by tenantry for tenant acme. Edits are overwritten; change tenants.yaml.",
        "server {",
        "    listen 80;",
        "    listen [::]:80;",
        "    server_name acme.example.com www.acme.example.com;",
        "",
        "    client_max_body_size 50m;",
        "",
        "    # service api",
        "    location /api/ {",
        "        proxy_pass http://127.0.0.1:10001;",
        ...PROXY_LINES,
        "    }",
        "",
        "    # service web",
        "    location / {",
        "        proxy_pass http://127.0.0.1:10000;",
        ...PROXY_LINES,
        "    }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("starts with the marker line the delete script looks for", () => {
    const text = renderSite({
      tenant: "globex",
      marker: siteMarker("globex", "vps2"),
      domains: ["globex.example.com"],
      listen: ["127.0.0.1:8080"],
      maxBodySize: "10m",
      routes: [],
    });
    expect(text.split("\n")[0]).toBe(markerLine("globex@vps2"));
    expect(markerLine("globex@vps2")).toBe("# tenantry-site: globex@vps2");
  });
});

describe("renderHostInclude", () => {
  it("renders the catch-all server before the sites", () => {
    expect(
      renderHostInclude({ sitesDir: "/etc/nginx/tenantry/sites", listen: ["80", "[::]:80"] }),
    ).toBe(
      [
        "# Managed by tenantry: catch-all server and tenant sites. Edits are overwritten.",
        "map $http_upgrade $tenantry_connection_upgrade {",
        "    default upgrade;",
        "    ''      close;",
        "}",
        "",
        "server {",
        "    listen 80 default_server;",
        "    listen [::]:80 default_server;",
        "    server_name _;",
        "    return 444;",
        "}",
        "",
        "include /etc/nginx/tenantry/sites/*.conf;",
        "",
      ].join("\n"),
    );
  });
});

describe("names", () => {
  it.each([
    ["/", "/"],
    ["/api", "/api/"],
    ["/api/", "/api/"],
    ["/a/b", "/a/b/"],
  ])("normalizes route %s to location %s", (route, location) => {
    expect(normalizeRoute(route)).toBe(location);
  });

  it("names a site file and its owner", () => {
    expect(siteFileName("acme")).toBe("acme.conf");
    expect(siteMarker("acme", "vps1")).toBe("acme@vps1");
  });
});
