// Where tenantry may write inside nginx's tree: the manifest's rule (manifest/schema.ts) and the
// root entry point's argument checks (remote/scripts.ts) both read these.

export const NGINX_ROOT = "/etc/nginx";
/** Directories of nginx's own under NGINX_ROOT (Debian, Ubuntu, nginx.org packages). */
export const NGINX_OWN_DIRS: readonly string[] = [
  "conf.d",
  "sites-available",
  "sites-enabled",
  "modules-available",
  "modules-enabled",
  "snippets",
];
/** nginx's own files that end in .conf: the main config and the FastCGI parameters. */
export const NGINX_OWN_FILES: readonly string[] = ["nginx.conf", "fastcgi.conf"];
