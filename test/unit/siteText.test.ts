// What the entry point accepts as nginx text on stdin (remote/scripts.ts site_text_ok): every
// site, HTTPS server and maintenance page tenantry renders for the example manifest, and none
// of the directives that would make root's nginx open or write a file outside its own tree.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { parseManifest } from "../../manifest/load";
import { planTenants, type TenantPlan } from "../../plan/tenant";
import { siteText, tlsSiteText } from "../../remote/maintenance";
import { renderHostInclude, renderRedirect } from "../../remote/nginx";
import { hostLayout, prelude } from "../../remote/scripts";

const dir = mkdtempSync(join(tmpdir(), "tenantry-site-text-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXAMPLE = parseManifest(readFileSync(join(__dirname, "../../tenants.yaml"), "utf8"), "t");
if (!EXAMPLE.ok) throw new Error("the example manifest does not validate");
const PLANS = planTenants(EXAMPLE.loaded.manifest);
const NGINX_DIR = "/etc/nginx/tenantry";

/** The check as the entry point runs it: its function from the prelude, on a file. */
function check(site: string, include = false): { ok: boolean; stderr: string } {
  const layout = hostLayout({ dir: NGINX_DIR, include: "/etc/nginx/conf.d/t.conf", listen: [] });
  const lines = prelude(layout).map((l) => l.text);
  const helpers = lines.filter((l) => l.startsWith("fail()") || l.startsWith("on_fail()"));
  const text = lines.join("\n");
  const start = text.indexOf("site_text_ok() {");
  const body = text.slice(start, text.indexOf("\n}", start) + 2);
  const file = join(dir, "site");
  writeFileSync(file, site);
  const run = spawnSync(
    "/bin/sh",
    [
      "-c",
      `${helpers.join("\n")}\n${body}\nsite_text_ok "$1" "$2"`,
      "sh",
      file,
      include ? "1" : "0",
    ],
    {
      encoding: "utf8",
    },
  );
  return { ok: run.status === 0, stderr: run.stderr };
}

const suspended = (p: TenantPlan): TenantPlan => ({
  ...p,
  lifecycle: { ...p.lifecycle, serves: "maintenance" },
});

const RENDERED = PLANS.flatMap((p) => [
  [`${p.name}: site`, siteText(p)] as const,
  [`${p.name}: maintenance site`, siteText(suspended(p))] as const,
  ...(p.site.tls === undefined
    ? []
    : [
        [`${p.name}: HTTPS server`, tlsSiteText(p)] as const,
        [`${p.name}: HTTPS maintenance`, tlsSiteText(suspended(p))] as const,
      ]),
]);

it("has TLS tenants in the example, so the HTTPS texts are checked too", () => {
  expect(RENDERED.filter(([name]) => name.endsWith("HTTPS server")).length).toBeGreaterThan(0);
});

it.each([...RENDERED, ["the redirect snippet", renderRedirect()] as const])(
  "accepts what tenantry renders: %s",
  (_name, text) => {
    expect(check(text)).toEqual({ ok: true, stderr: "" });
  },
);

const SERVER = (inner: string) =>
  `# tenantry-site: acme@vps1\nserver {\n    listen 80;\n    server_name acme.example.com;\n${inner}\n}\n`;

it.each([
  ["a log file root appends to", "    access_log /etc/cron.d/x;", "the directive access_log"],
  ["an error log", "    error_log /etc/passwd;", "the directive error_log"],
  ["a file outside nginx's tree", "    include /etc/shadow;", "include /etc/shadow (outside"],
  ["a dot segment", `    root ${NGINX_DIR}/../../../etc;`, `root ${NGINX_DIR}/../../../etc`],
  ["a quoted path", `    include "/etc/shadow";`, `include "/etc/shadow" (outside`],
  ["a key outside certbot's tree", "    ssl_certificate_key /root/key.pem;", "ssl_certificate_key"],
  [
    "a remote upstream",
    "    location / { proxy_pass http://10.0.0.1:80; }",
    "proxy_pass http://10.0.0.1:80",
  ],
  ["an upstream variable", "    location / { proxy_pass $x; }", "proxy_pass $x"],
  [
    "a directive hidden in a quoted value",
    '    add_header X "a; access_log /etc/x";',
    "the directive access_log",
  ],
  ["a comment that hides a statement", '    add_header X "#"; access_log /x;', "a '#'"],
  ["a cache path root creates", "    proxy_cache_path /etc/x keys_zone=a:1m;", "proxy_cache_path"],
])("refuses %s", (_name, inner, message) => {
  const result = check(SERVER(inner));
  expect(result.ok).toBe(false);
  expect(result.stderr).toContain(message);
  expect(result.stderr).toContain("tenantry: refusing");
});

it("accepts the host include as the bootstrap's, and its map nowhere else", () => {
  const include = renderHostInclude({
    sitesDir: `${NGINX_DIR}/sites`,
    listen: ["80", "[::]:80"],
    tlsListen: ["443", "[::]:443"],
  });
  expect(include).toContain("ssl_reject_handshake on;");
  expect(check(include, true)).toEqual({ ok: true, stderr: "" });
  expect(check(include).stderr).toContain("the directive map");
});
