// Pure: the root operations that get and serve certificates on a host with Debian's certbot. A
// tenant's TLS step asks for its certificate (HTTP-01 through the site tenantry serves) or checks
// the host's wildcard one, then puts its HTTPS server and the redirect in place; the host's
// wildcard step asks for `*.<zone>` through DNS-01 (certbot's Cloudflare plugin). certbot's own
// timer renews them, and the deploy hook installed here reloads nginx under tenantry's host lock.
// Every body is constant (remote/entry.ts): the lineage, the names and the account are checked
// arguments, every path is derived from them and from the nginx dir.
import { markerLine, renderRedirect, tlsSiteFileName } from "./nginx";
import { PATTERNS, argValue, asRoot, type OperationParam, type RootOperation } from "./operation";
import { hostValue, raw, script, sh, type Shell } from "./shell";
import {
  LAYOUT_PARAMS,
  MARKER_PARAM,
  OPERATION_LAYOUT,
  TENANT_PARAM,
  baseline,
  installFunction,
  layoutArgs,
  prelude,
  reloadFlag,
  sitesDir,
  type HostLayout,
} from "./scripts";
import { LETSENCRYPT_DIR, acmeWebroot, tlsSnippetsDir, type CertificatePlan } from "../plan/tls";

/** Run by certbot after each renewal (`certbot renew`, Debian's timer), for every lineage. */
export const DEPLOY_HOOK = `${LETSENCRYPT_DIR}/renewal-hooks/deploy/tenantry-reload-nginx`;
/** tenantry's files under certbot's tree, root only: DNS-01 credentials, the hook's settings. */
export const CREDENTIALS_DIR = `${LETSENCRYPT_DIR}/tenantry`;
export const credentialsFile = (zone: string): string =>
  `${CREDENTIALS_DIR}/cloudflare-${zone}.ini`;
/**
 * The deploy hook's data: the host's nginx dir (its lock) and nginx's main config, as
 * `dir=...` and `config=...` lines the hook reads (never runs), written by every certificate
 * step, so the hook itself is the same text on every host.
 */
export const DEPLOY_HOOK_SETTINGS = `${CREDENTIALS_DIR}/deploy-hook.conf`;

/** A lineage's files, as certbot lays them out (plan/tls.ts names them alike). */
const livePath = (name: string): string => `${LETSENCRYPT_DIR}/live/${name}`;
const fullchainPath = (name: string): string => `${livePath(name)}/fullchain.pem`;
const keyPath = (name: string): string => `${livePath(name)}/privkey.pem`;
const renewalConf = (name: string): string => `${LETSENCRYPT_DIR}/renewal/${name}.conf`;

/**
 * The deploy hook: reads the host's nginx dir and config from its settings, takes tenantry's
 * host lock (remote/scripts.ts prelude: `flock` on `<dir>/lock`, so a renewal never reloads
 * nginx in the middle of an apply's file swap), then reloads nginx if its config passes
 * `nginx -t`. certbot runs it only from `certbot renew`: tenantry's own certbot calls pass
 * --no-directory-hooks, as they hold the lock already. Constant text: the entry point writes
 * it as it is, and no host value can reach it.
 */
export function deployHookScript(): Shell {
  return script(
    raw("#!/bin/sh"),
    raw("# Installed by tenantry: after certbot renews a certificate, nginx reloads to serve it."),
    raw("# Its settings (the nginx dir and config) are data, written by tenantry's TLS steps."),
    raw("set -eu"),
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("umask 077"),
    sh`settings=${DEPLOY_HOOK_SETTINGS}`,
    raw(
      '[ -r "$settings" ] || { echo "tenantry: $settings is missing; nginx not reloaded" >&2; exit 1; }',
    ),
    raw(`dir=$(sed -n 's/^dir=//p' "$settings" | head -n 1)`),
    raw(`config=$(sed -n 's/^config=//p' "$settings" | head -n 1)`),
    raw(
      '[ -n "$dir" ] || { echo "tenantry: $settings names no nginx dir; nginx not reloaded" >&2; exit 1; }',
    ),
    raw('if [ -n "$config" ]; then set -- -c "$config"; else set --; fi'),
    raw('lock="$dir/lock"'),
    raw('exec 9>>"$lock"'),
    raw(
      'flock -w 300 9 || { echo "tenantry: timed out waiting for $lock; nginx not reloaded" >&2; exit 1; }',
    ),
    raw(
      'if ! out=$(nginx "$@" -t 2>&1); then printf "tenantry: nginx -t fails, not reloading: %s\\n" "$out" >&2; exit 1; fi',
    ),
    raw('nginx "$@" -s reload'),
    raw('echo "tenantry: nginx reloaded for ${RENEWED_LINEAGE:-a renewed certificate}"'),
  );
}

/*
 * The placeholders of the bodies: the CERT, DIRECTORY, EMAIL and ZONE arguments, and $names,
 * the certificate's names joined by ", " for messages (certificateNames sets it).
 */
const CERT = argValue("cert");
const DIRECTORY = argValue("directory");
const EMAIL = argValue("email");
const ZONE = argValue("zone");
const NAMES = hostValue("names");

/**
 * What every certificate step checks and installs first: certbot itself, a renewal schedule
 * (Debian's certbot.timer under systemd, enabled if it is not; its /etc/cron.d/certbot
 * elsewhere), the deploy hook and its settings (this host's nginx dir and config).
 */
function renewalSupport(needs: readonly string[]): Shell[] {
  const install = `apt-get install ${needs.join(" ")}`;
  return [
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    sh`command -v certbot >/dev/null 2>&1 || fail ${`certbot is not installed on this host; as root run: ${install}, then pulumi up again`}`,
    raw("if [ -d /run/systemd/system ]; then"),
    raw(
      '  if ! systemctl is-enabled --quiet certbot.timer 2>/dev/null; then systemctl enable --now certbot.timer >/dev/null 2>&1 || fail "certbot.timer cannot be enabled, so nothing would renew the certificates: install Debian\'s certbot (it ships the timer)"; fi',
    ),
    raw("elif [ ! -f /etc/cron.d/certbot ]; then"),
    raw(
      '  fail "neither certbot.timer (systemd) nor /etc/cron.d/certbot is there, so nothing would renew the certificates: install Debian\'s certbot"',
    ),
    raw("fi"),
    raw("# The hook's settings first: a hook installed before them would find none."),
    sh`(umask 077 && mkdir -p ${CREDENTIALS_DIR}) || fail ${`cannot create ${CREDENTIALS_DIR}`}`,
    sh`chmod 0700 ${CREDENTIALS_DIR}`,
    sh`printf 'dir=%s\\nconfig=%s\\n' ${OPERATION_LAYOUT.dir} ${argValue("config")} >"$work/hook.conf" || fail "cannot write the deploy hook's settings (disk full?)"`,
    sh`if ! cmp -s "$work/hook.conf" ${DEPLOY_HOOK_SETTINGS}; then replace_file "$work/hook.conf" ${DEPLOY_HOOK_SETTINGS}; fi`,
    raw(
      "# shellcheck disable=SC2016,SC1003 # the text of the hook, written as data, expands when certbot runs it",
    ),
    sh`printf '%s' ${deployHookScript().text} >"$work/hook" || fail "cannot write the deploy hook (disk full?)"`,
    sh`mkdir -p "$(dirname ${DEPLOY_HOOK})"`,
    sh`if ! cmp -s "$work/hook" ${DEPLOY_HOOK}; then chmod 0755 "$work/hook"; replace_file "$work/hook" ${DEPLOY_HOOK}; fi`,
  ];
}

/**
 * Turns the positional arguments (the certificate's names, one at least) into certbot's `-d`
 * flags and its account flags (EMAIL, or none), and sets $names for the messages.
 */
function certificateNames(): Shell[] {
  return [
    raw('names=""'),
    raw(
      'for domain in "$@"; do names="${names:+$names, }$domain"; set -- "$@" -d "$domain"; shift; done',
    ),
    sh`if [ -n ${EMAIL} ]; then set -- "$@" --email ${EMAIL} --no-eff-email; else set -- "$@" --register-unsafely-without-email; fi`,
  ];
}

/**
 * certbot's arguments for CERT, before its names and account ("$@"): the ACME server, the
 * lineage, never a forced renewal (--keep-until-expiring: a valid certificate with these names
 * stays), no directory hooks (the step reloads nginx itself, under the lock it already holds).
 */
function certbotArgs(authenticator: readonly string[]): string[] {
  return [
    "certonly",
    "--non-interactive",
    "--agree-tos",
    "--keep-until-expiring",
    "--no-directory-hooks",
    "--key-type",
    "ecdsa",
    "--server",
    DIRECTORY,
    "--cert-name",
    CERT,
    ...authenticator,
  ];
}

/**
 * Runs certbot for CERT and reports whether it issued: fails with the ACME server's own words
 * (certbot prints its "Detail:" lines) and says what keeps serving. One attempt per apply: no
 * retry, so a name that does not point here yet uses one of its 5 failed validations an hour.
 */
function requestCertificate(authenticator: readonly string[]): Shell[] {
  const certificate = fullchainPath(CERT);
  return [
    ...certificateNames(),
    sh`before=$(cksum <${certificate} 2>/dev/null || true)`,
    sh`if ! certbot ${certbotArgs(authenticator)} "$@" >"$work/certbot.out" 2>&1; then`,
    sh`  if [ -s ${certificate} ]; then kept=${"the certificate it has stays in place"}; else kept=${"HTTPS is not set up, and HTTP keeps serving"}; fi`,
    sh`  what=${`no certificate for ${NAMES} from ${DIRECTORY}`}`,
    raw(
      `  fail "$what; $kept. certbot and the ACME server said: $(grep -v -e '^Saving debug log' -e '^$' "$work/certbot.out")"`,
    ),
    raw("fi"),
    sh`after=$(cksum <${certificate} 2>/dev/null || true)`,
    sh`if [ "$before" = "$after" ]; then issued=0; echo ${`tenantry: certificate ${CERT} is valid and not due; not renewed`}; else issued=1; echo ${`tenantry: certificate ${CERT} issued for ${NAMES}`}; fi`,
    raw(
      "# certbot keeps private keys 0600 in archive/; make sure of it whatever umask it ran with.",
    ),
    sh`key=$(readlink -f ${keyPath(CERT)}) && chmod 0600 "$key"`,
  ];
}

export interface TenantTlsTarget {
  readonly tenant: string;
  /** The site's owner marker (core/names.ts siteMarker): the HTTPS file carries it too. */
  readonly marker: string;
  readonly certificate: CertificatePlan;
  /** The directory the site serves ACME challenges from (acme only). */
  readonly webroot?: string | undefined;
  /** Where the redirect and stapling snippets go (plan/tls.ts tlsSnippetsDir). */
  readonly snippets: string;
}

const tlsSitePath = (layout: HostLayout, tenant: string): string =>
  `${sitesDir(layout)}/${tlsSiteFileName(tenant)}`;

/**
 * A tenant's TLS step (its HTTPS server on stdin). For acme it first makes a pending site change
 * live (the challenge location must answer), asks for the certificate or keeps the valid one,
 * then installs the HTTPS server, the OCSP stapling snippet when the certificate names a
 * responder, and last the redirect; nginx reloads when anything changed. A failed issuance
 * fails the step and leaves the HTTP site as it was.
 */
function tenantTlsBody(kind: CertificatePlan["kind"]): Shell {
  const layout = OPERATION_LAYOUT;
  const tenant = argValue("tenant");
  const site = tlsSitePath(layout, tenant);
  const snippets = tlsSnippetsDir(layout.dir, tenant);
  const certificate = fullchainPath(CERT);
  const chain = `${livePath(CERT)}/chain.pem`;
  const webroot = acmeWebroot(layout.dir);
  const steps: Shell[] =
    kind === "acme"
      ? [
          ...renewalSupport(["certbot"]),
          sh`mkdir -p ${webroot} || fail ${`cannot create ${webroot}`}`,
          raw("# The site step only flags its change: the challenge location must be live now."),
          raw("reload_pending"),
          ...requestCertificate(["--webroot", "--webroot-path", webroot]),
        ]
      : [
          raw("issued=0"),
          sh`if [ ! -s ${certificate} ] || [ ! -s ${keyPath(CERT)} ]; then fail ${`the host certificate for *.${ZONE} (${CERT}) is not there, so HTTPS is not set up and HTTP keeps serving; the host step requests it`}; fi`,
        ];
  return script(
    kind === "acme"
      ? raw('[ $# -gt 0 ] || refuse "$op: a certificate needs at least one NAME"')
      : [],
    prelude(layout),
    installFunction(layout),
    raw('cat >"$work/tls-site" || fail "cannot read the HTTPS server from stdin (disk full?)"'),
    sh`[ -s "$work/tls-site" ] || fail ${`no HTTPS server for ${tenant} on stdin`}`,
    raw('site_text_ok "$work/tls-site"'),
    sh`if [ -f ${site} ] && ! grep -q -x -F ${markerLine(argValue("marker"))} ${site}; then echo ${`tenantry: ${site} belongs to another deployment of ${tenant}; left in place`}; exit 0; fi`,
    steps,
    raw("# OCSP stapling where the CA offers it: only a certificate naming a responder gets it."),
    raw(': >"$work/stapling"'),
    sh`if command -v openssl >/dev/null 2>&1 && [ -n "$(openssl x509 -noout -ocsp_uri -in ${certificate} 2>/dev/null)" ]; then printf 'ssl_stapling on;\nssl_stapling_verify on;\nssl_trusted_certificate %s;\n' ${chain} >"$work/stapling"; fi`,
    raw("# shellcheck disable=SC2016 # nginx text, written as data"),
    sh`printf '%s' ${renderRedirect()} >"$work/redirect"`,
    sh`mkdir -p ${snippets} || fail ${`cannot create ${snippets}`}`,
    baseline(),
    raw('changed="$issued"'),
    sh`if ! cmp -s "$work/tls-site" ${site}; then install_checked "$work/tls-site" ${site}; changed=1; fi`,
    sh`if [ -s "$work/stapling" ]; then if ! cmp -s "$work/stapling" ${`${snippets}/stapling.conf`}; then install_checked "$work/stapling" ${`${snippets}/stapling.conf`}; changed=1; fi; elif [ -f ${`${snippets}/stapling.conf`} ]; then rm -f ${`${snippets}/stapling.conf`}; changed=1; fi`,
    sh`if ! cmp -s "$work/redirect" ${`${snippets}/redirect.conf`}; then install_checked "$work/redirect" ${`${snippets}/redirect.conf`}; changed=1; fi`,
    raw('if [ "$changed" = 1 ]; then'),
    raw("  require_running"),
    sh`  : >${reloadFlag(layout)} || fail "cannot flag the reload (disk full?)"`,
    raw("  nginx_reload"),
    sh`  echo ${`tenantry: ${tenant} serves HTTPS; HTTP redirects to it`}`,
    raw("else"),
    sh`  echo ${`tenantry: ${tenant} HTTPS unchanged`}`,
    raw("fi"),
  );
}

/**
 * Deletes lineage CERT with `certbot delete`, which removes its renewal config, and says so
 * with `done` if given; a lineage already gone is fine.
 */
function deleteLineage(done?: string): Shell[] {
  return [
    sh`if [ -e ${renewalConf(CERT)} ] || [ -e ${livePath(CERT)} ]; then`,
    raw("  PATH=$PATH:/usr/sbin:/sbin"),
    sh`  certbot delete --non-interactive --cert-name ${CERT} >"$work/certbot.out" 2>&1 || fail "certbot delete failed: $(cat "$work/certbot.out")"`,
    done === undefined ? [] : [sh`  echo ${done}`],
    raw("fi"),
  ].flat();
}

/**
 * Removes a tenant's HTTPS: the redirect first (HTTP serves again), the stapling snippet and the
 * HTTPS server, reloads, then (acme) deletes its certificate lineage. Leaves alone an HTTPS file
 * another deployment of the tenant owns; succeeds when nothing is left.
 */
function tenantTlsRemoveBody(kind: CertificatePlan["kind"]): Shell {
  const layout = OPERATION_LAYOUT;
  const tenant = argValue("tenant");
  const site = tlsSitePath(layout, tenant);
  const snippets = tlsSnippetsDir(layout.dir, tenant);
  const files = [`${snippets}/redirect.conf`, `${snippets}/stapling.conf`, site];
  return script(
    prelude(layout),
    sh`if [ -f ${site} ] && ! grep -q -x -F ${markerLine(argValue("marker"))} ${site}; then echo ${`tenantry: ${site} now belongs to a newer deployment; left in place`}; exit 0; fi`,
    raw("removed=0"),
    raw('mkdir "$work/removed"'),
    files.map(
      (f, i) =>
        sh`if [ -f ${f} ]; then mv -f ${f} "$work/removed/${raw(String(i))}"; removed=1; fi`,
    ),
    raw("# Puts back what this run moved, if nginx rejects the config without it."),
    raw("on_fail() {"),
    files.map(
      (f, i) =>
        sh`  if [ -f "$work/removed/${raw(String(i))}" ]; then mv -f "$work/removed/${raw(String(i))}" ${f}; fi`,
    ),
    raw("}"),
    raw('if [ "$removed" = 1 ]; then'),
    sh`  if ! nginx_test "$work/after"; then fail "nginx -t fails without the HTTPS server; restored it: $(cat "$work/after.out")"; fi`,
    sh`  if nginx_running; then : >${reloadFlag(layout)}; nginx_reload; fi`,
    raw("fi"),
    raw("on_fail() { :; }"),
    sh`rmdir ${snippets} 2>/dev/null || true`,
    kind === "acme"
      ? deleteLineage(`tenantry: certificate ${CERT} deleted, with its renewal config`)
      : [],
    sh`echo ${`tenantry: ${tenant} HTTPS removed`}`,
  );
}

/**
 * The host's wildcard step (the Cloudflare credentials on stdin, `dns_cloudflare_api_token =
 * ...`): keeps them in a 0600 file certbot reads at every renewal, asks for `*.<zone>` through
 * DNS-01 or keeps the valid certificate, and reloads nginx when a renewed certificate is in use.
 */
function wildcardCertificateBody(): Shell {
  const layout = OPERATION_LAYOUT;
  const creds = credentialsFile(ZONE);
  return script(
    prelude(layout),
    raw('(umask 077 && cat >"$work/credentials") || fail "cannot read the credentials from stdin"'),
    raw(
      'grep -q \'^dns_cloudflare_api_token = .\' "$work/credentials" || fail "no Cloudflare API token on stdin (stack config tenantry:acmeDnsToken)"',
    ),
    sh`(umask 077 && mkdir -p ${CREDENTIALS_DIR}) || fail ${`cannot create ${CREDENTIALS_DIR}`}`,
    sh`chmod 0700 ${CREDENTIALS_DIR}`,
    sh`if ! cmp -s "$work/credentials" ${creds}; then replace_file "$work/credentials" ${creds}; fi`,
    sh`chmod 0600 ${creds}`,
    renewalSupport(["certbot", "python3-certbot-dns-cloudflare"]),
    sh`certbot plugins --non-interactive 2>/dev/null | grep -q -x -F '* dns-cloudflare' || fail "certbot's Cloudflare plugin is missing; as root run: apt-get install python3-certbot-dns-cloudflare, then pulumi up again"`,
    raw("# The certificate's one name."),
    sh`set -- ${`*.${ZONE}`}`,
    requestCertificate(["--dns-cloudflare", "--dns-cloudflare-credentials", creds]),
    raw("# Sites already serving it pick a renewed certificate up at a reload."),
    sh`if [ "$issued" = 1 ] && grep -q -r -F ${fullchainPath(CERT)} ${sitesDir(layout)} && nginx_running; then nginx_test "$work/after" || fail "nginx -t fails; not reloading: $(cat "$work/after.out")"; : >${reloadFlag(layout)}; nginx_reload; fi`,
  );
}

/**
 * Deletes the host's wildcard certificate and its credentials, once no site serves it (its
 * tenants' TLS steps depend on this step, so Pulumi removes them first).
 */
function wildcardRemoveBody(): Shell {
  const layout = OPERATION_LAYOUT;
  const certificate = fullchainPath(CERT);
  return script(
    prelude(layout),
    sh`if grep -q -r -F ${certificate} ${sitesDir(layout)}; then fail ${`a site still serves ${CERT} (${certificate}); remove the HTTPS of its tenants first`}; fi`,
    deleteLineage(),
    sh`rm -f ${credentialsFile(ZONE)}`,
    sh`echo ${`tenantry: certificate ${CERT} deleted, with its renewal config and credentials`}`,
  );
}

/** A domain name as manifest/schema.ts HOSTNAME allows it, in ERE (its lookaheads as `deny`). */
const DOMAIN_LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const DOMAIN = `${DOMAIN_LABEL}(\\.${DOMAIN_LABEL})+`;
const DOMAIN_DENY = ".{254}|\\.[0-9]+$";
/** What plan/tls.ts directorySuffix appends to a lineage name. */
const LINEAGE_SUFFIX = "(-staging|-[0-9a-f]{8})?";

const ACME_CERT_PARAM: OperationParam = {
  name: "cert",
  pattern: `tenantry-${PATTERNS.name}${LINEAGE_SUFFIX}`,
  what: "a tenant's certificate lineage (tenantry-<tenant>[-staging|-<hex>])",
};
const WILDCARD_CERT_PARAM: OperationParam = {
  name: "cert",
  pattern: `tenantry-wildcard-${DOMAIN}${LINEAGE_SUFFIX}`,
  deny: ".{281}",
  what: "a host's wildcard certificate lineage (tenantry-wildcard-<zone>[-staging|-<hex>])",
};
const ZONE_PARAM: OperationParam = {
  name: "zone",
  pattern: DOMAIN,
  deny: DOMAIN_DENY,
  what: "a managed zone (dns.zones)",
};
/** manifest/schema.ts tls.directory, and tls.email (empty: no email). */
const ACCOUNT_PARAMS: readonly OperationParam[] = [
  {
    name: "directory",
    pattern: "https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?",
    what: "an https URL of an ACME directory (tls.directory)",
  },
  {
    name: "email",
    pattern: "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+",
    optional: true,
    what: "an email address, or empty (tls.email)",
  },
];
const NAME_PARAM: OperationParam = {
  name: "name",
  pattern: DOMAIN,
  deny: DOMAIN_DENY,
  what: "a domain name (tenants.*.domain, tenants.*.aliases)",
};

export const TENANT_TLS_ACME: RootOperation = {
  name: "tenant-tls-acme",
  summary:
    "gets a tenant's certificate for NAMEs through HTTP-01 (or keeps it) and installs its HTTPS server from stdin",
  params: [...LAYOUT_PARAMS, TENANT_PARAM, MARKER_PARAM, ACME_CERT_PARAM, ...ACCOUNT_PARAMS],
  rest: NAME_PARAM,
  body: () => tenantTlsBody("acme"),
};

export const TENANT_TLS_WILDCARD: RootOperation = {
  name: "tenant-tls-wildcard",
  summary: "installs a tenant's HTTPS server from stdin, served with the host's *.ZONE certificate",
  params: [...LAYOUT_PARAMS, TENANT_PARAM, MARKER_PARAM, WILDCARD_CERT_PARAM, ZONE_PARAM],
  body: () => tenantTlsBody("wildcard"),
};

export const TENANT_TLS_REMOVE: RootOperation = {
  name: "tenant-tls-remove",
  summary: "removes a tenant's HTTPS server and redirect if they still carry MARKER",
  params: [...LAYOUT_PARAMS, TENANT_PARAM, MARKER_PARAM],
  body: () => tenantTlsRemoveBody("wildcard"),
};

export const TENANT_TLS_REMOVE_ACME: RootOperation = {
  name: "tenant-tls-remove-acme",
  summary: "removes a tenant's HTTPS server and redirect, then its certificate CERT",
  params: [...LAYOUT_PARAMS, TENANT_PARAM, MARKER_PARAM, ACME_CERT_PARAM],
  body: () => tenantTlsRemoveBody("acme"),
};

export const WILDCARD_CERTIFICATE: RootOperation = {
  name: "wildcard-certificate",
  summary:
    "gets the host's *.ZONE certificate through DNS-01 (or keeps it); the Cloudflare credentials on stdin",
  params: [...LAYOUT_PARAMS, WILDCARD_CERT_PARAM, ZONE_PARAM, ...ACCOUNT_PARAMS],
  body: wildcardCertificateBody,
};

export const WILDCARD_REMOVE: RootOperation = {
  name: "wildcard-remove",
  summary: "deletes the host's *.ZONE certificate and its credentials once no site serves it",
  params: [...LAYOUT_PARAMS, WILDCARD_CERT_PARAM, ZONE_PARAM],
  body: wildcardRemoveBody,
};

/** The root operations of certificates (remote/entry.ts runs them). */
export const TLS_OPERATIONS: readonly RootOperation[] = [
  TENANT_TLS_ACME,
  TENANT_TLS_WILDCARD,
  TENANT_TLS_REMOVE,
  TENANT_TLS_REMOVE_ACME,
  WILDCARD_CERTIFICATE,
  WILDCARD_REMOVE,
];

/**
 * What the bodies derive is what the plan says: the lineage's files from its name, the webroot
 * and snippets from the nginx dir and the tenant, a wildcard's one name from its zone.
 */
function checkCertificate(cert: CertificatePlan): void {
  const expect = (what: string, planned: unknown, derived: unknown): void => {
    if (JSON.stringify(planned) !== JSON.stringify(derived)) {
      throw new Error(
        `certificate ${cert.name}: ${what} is ${JSON.stringify(planned)}, but the TLS operations use ${JSON.stringify(derived)}`,
      );
    }
  };
  expect("its certificate", cert.certificate, fullchainPath(cert.name));
  expect("its key", cert.key, keyPath(cert.name));
  if (cert.kind === "wildcard") {
    if (cert.zone === undefined) throw new Error(`${cert.name} is a wildcard without a zone`);
    expect("its names", cert.names, [`*.${cert.zone}`]);
  } else if (cert.names.length === 0) {
    throw new Error(`certificate ${cert.name} has no names`);
  }
}

function checkTarget(layout: HostLayout, target: TenantTlsTarget): void {
  checkCertificate(target.certificate);
  const derived = tlsSnippetsDir(layout.dir, target.tenant);
  if (target.snippets !== derived) {
    throw new Error(
      `tenant ${target.tenant}: its TLS snippets are planned in ${target.snippets}, but the TLS operations use ${derived}`,
    );
  }
  if (target.certificate.kind === "acme" && target.webroot !== acmeWebroot(layout.dir)) {
    throw new Error(
      `acme tenant ${target.tenant}: its webroot is ${String(target.webroot)}, but the TLS operations use ${acmeWebroot(layout.dir)}`,
    );
  }
}

const accountArgs = (cert: CertificatePlan): string[] => [
  cert.account.directory,
  cert.account.email ?? "",
];

/** The command text of a tenant's TLS step (stdin: its HTTPS server). */
export function tenantTlsCommand(
  user: string,
  layout: HostLayout,
  target: TenantTlsTarget,
): string {
  checkTarget(layout, target);
  const cert = target.certificate;
  const tenant = [...layoutArgs(layout), target.tenant, target.marker, cert.name];
  return cert.kind === "acme"
    ? asRoot(user, TENANT_TLS_ACME, [...tenant, ...accountArgs(cert)], cert.names)
    : asRoot(user, TENANT_TLS_WILDCARD, [...tenant, cert.zone!]);
}

/** The command text that removes a tenant's HTTPS (and, acme, its certificate). */
export function tenantTlsRemoveCommand(
  user: string,
  layout: HostLayout,
  target: TenantTlsTarget,
): string {
  checkTarget(layout, target);
  const cert = target.certificate;
  const tenant = [...layoutArgs(layout), target.tenant, target.marker];
  return cert.kind === "acme"
    ? asRoot(user, TENANT_TLS_REMOVE_ACME, [...tenant, cert.name])
    : asRoot(user, TENANT_TLS_REMOVE, tenant);
}

function wildcardArgs(layout: HostLayout, cert: CertificatePlan): string[] {
  if (cert.kind !== "wildcard") throw new Error(`${cert.name} is not a wildcard certificate`);
  checkCertificate(cert);
  return [...layoutArgs(layout), cert.name, cert.zone!];
}

/** The command text of the host's wildcard step (stdin: the Cloudflare credentials). */
export function wildcardCertificateCommand(
  user: string,
  layout: HostLayout,
  cert: CertificatePlan,
): string {
  return asRoot(user, WILDCARD_CERTIFICATE, [...wildcardArgs(layout, cert), ...accountArgs(cert)]);
}

/** The command text that deletes the host's wildcard certificate and its credentials. */
export function wildcardRemoveCommand(
  user: string,
  layout: HostLayout,
  cert: CertificatePlan,
): string {
  return asRoot(user, WILDCARD_REMOVE, wildcardArgs(layout, cert));
}
