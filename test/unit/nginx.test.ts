// The nginx text tenantry installs, compared whole: it is what the host runs.
import { describe, expect, it } from "vitest";
import { siteFileName, siteMarker } from "../../core/names";
import { normalizeRoute } from "../../core/routes";
import {
  markerLine,
  renderHostInclude,
  renderRedirect,
  renderSite,
  renderTlsSite,
  tlsSiteFileName,
} from "../../remote/nginx";
import type { SiteSpec } from "../../plan/site";

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

/** The TLS lines of every HTTPS server, default one included. */
const TLS_LINES = [
  "    ssl_protocols TLSv1.2 TLSv1.3;",
  "    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;",
  "    ssl_prefer_server_ciphers off;",
  "    ssl_session_cache shared:tenantry_tls:10m;",
  "    ssl_session_timeout 1d;",
  "    ssl_session_tickets off;",
];

/** An acme tenant's site as plan/tenant.ts makes it. */
const ACME_SITE: SiteSpec = {
  tenant: "acme",
  marker: siteMarker("acme", "vps1"),
  domains: ["acme.example.com", "shop.acme.co.uk"],
  listen: ["80", "[::]:80"],
  maxBodySize: "50m",
  routes: [{ service: "web", path: "/", port: 10010 }],
  tls: {
    listen: ["443", "[::]:443"],
    certificate: "/etc/letsencrypt/live/tenantry-acme/fullchain.pem",
    key: "/etc/letsencrypt/live/tenantry-acme/privkey.pem",
    hsts: true,
    webroot: "/etc/nginx/tenantry/acme-challenge",
    snippets: "/etc/nginx/tenantry/tls/acme",
  },
};

describe("TLS sites", () => {
  it("keeps serving HTTP with the challenge location and the redirect include until the certificate is in", () => {
    expect(renderSite(ACME_SITE)).toBe(
      [
        "# tenantry-site: acme@vps1",
        "# Managed by tenantry for tenant acme. Edits are overwritten; change tenants.yaml.",
        "server {",
        "    listen 80;",
        "    listen [::]:80;",
        "    server_name acme.example.com shop.acme.co.uk;",
        "",
        "    client_max_body_size 50m;",
        "",
        "    # ACME HTTP-01 challenges, written by certbot (first issuance and renewals).",
        "    location ^~ /.well-known/acme-challenge/ {",
        "        root /etc/nginx/tenantry/acme-challenge;",
        '        default_type "text/plain";',
        "    }",
        "",
        "    # The redirect to HTTPS, written by the tenant's TLS step once its certificate is in place.",
        "    include /etc/nginx/tenantry/tls/acme/redirect*.conf;",
        "",
        "    # service web",
        "    location / {",
        "        proxy_pass http://127.0.0.1:10010;",
        ...PROXY_LINES,
        "    }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("renders the HTTPS server: HTTP/2, the certificate, modern TLS, stapling include, HSTS, the same routes with websocket upgrade", () => {
    expect(renderTlsSite(ACME_SITE)).toBe(
      [
        "# tenantry-site: acme@vps1",
        "# Managed by tenantry for tenant acme (HTTPS). Edits are overwritten; change tenants.yaml.",
        "server {",
        "    listen 443 ssl http2;",
        "    listen [::]:443 ssl http2;",
        "    server_name acme.example.com shop.acme.co.uk;",
        "",
        "    ssl_certificate /etc/letsencrypt/live/tenantry-acme/fullchain.pem;",
        "    ssl_certificate_key /etc/letsencrypt/live/tenantry-acme/privkey.pem;",
        ...TLS_LINES,
        "    # OCSP stapling, written by the TLS step when the certificate names a responder.",
        "    include /etc/nginx/tenantry/tls/acme/stapling*.conf;",
        '    add_header Strict-Transport-Security "max-age=31536000" always;',
        "",
        "    client_max_body_size 50m;",
        "",
        "    # service web",
        "    location / {",
        "        proxy_pass http://127.0.0.1:10010;",
        ...PROXY_LINES,
        "    }",
        "}",
        "",
      ].join("\n"),
    );
    expect(tlsSiteFileName("acme")).toBe("acme.tls.conf");
  });

  it("gives a wildcard tenant no challenge location and, without hsts, no HSTS header", () => {
    const wildcard: SiteSpec = {
      ...ACME_SITE,
      domains: ["acme.example.com"],
      tls: {
        ...ACME_SITE.tls!,
        certificate: "/etc/letsencrypt/live/tenantry-wildcard-example.com/fullchain.pem",
        key: "/etc/letsencrypt/live/tenantry-wildcard-example.com/privkey.pem",
        hsts: false,
        webroot: undefined,
      },
    };
    const http = renderSite(wildcard);
    expect(http).not.toContain("acme-challenge");
    expect(http).toContain("    include /etc/nginx/tenantry/tls/acme/redirect*.conf;\n");
    const https = renderTlsSite(wildcard);
    expect(https).toContain(
      "    ssl_certificate /etc/letsencrypt/live/tenantry-wildcard-example.com/fullchain.pem;\n",
    );
    expect(https).not.toContain("Strict-Transport-Security");
  });

  it("renders the redirect every HTTP request but an ACME challenge takes", () => {
    expect(renderRedirect()).toBe(
      [
        "# Written by the tenantry TLS step: the certificate is in place, HTTP redirects to HTTPS.",
        'if ($uri !~ "^/\\.well-known/acme-challenge/") {',
        "    return 301 https://$host$request_uri;",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("refuses to render HTTPS for a tenant served over HTTP only", () => {
    expect(() => renderTlsSite({ ...ACME_SITE, tls: undefined })).toThrow(
      "tenant acme is not served over HTTPS",
    );
  });
});

describe("renderHostInclude", () => {
  it("adds a default HTTPS server that rejects the handshake for names no tenant claims", () => {
    expect(
      renderHostInclude({
        sitesDir: "/etc/nginx/tenantry/sites",
        listen: ["80"],
        tlsListen: ["443", "[::]:443"],
      }),
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
        "    server_name _;",
        "    return 444;",
        "}",
        "",
        "server {",
        "    listen 443 ssl http2 default_server;",
        "    listen [::]:443 ssl http2 default_server;",
        "    server_name _;",
        "    ssl_reject_handshake on;",
        ...TLS_LINES,
        "}",
        "",
        "include /etc/nginx/tenantry/sites/*.conf;",
        "",
      ].join("\n"),
    );
  });

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
