// Pure: the shell that gets and serves certificates on a host with Debian's certbot. A tenant's
// TLS step asks for its certificate (HTTP-01 through the site tenantry serves) or checks the
// host's wildcard one, then puts its HTTPS server and the redirect in place; the host's wildcard
// step asks for `*.<zone>` through DNS-01 (certbot's Cloudflare plugin). certbot's own timer
// renews them, and the deploy hook installed here reloads nginx under tenantry's host lock.
import { markerLine, renderRedirect, tlsSiteFileName } from "./nginx";
import { raw, script, sh, type Shell } from "./shell";
import {
  baseline,
  installFunction,
  lockFile,
  prelude,
  reloadFlag,
  sitesDir,
  type HostLayout,
} from "./scripts";
import { LETSENCRYPT_DIR, type CertificatePlan } from "../plan/tls";

/** Run by certbot after each renewal (`certbot renew`, Debian's timer), for every lineage. */
export const DEPLOY_HOOK = `${LETSENCRYPT_DIR}/renewal-hooks/deploy/tenantry-reload-nginx`;
/** tenantry's files under certbot's tree: DNS-01 credentials, root only. */
export const CREDENTIALS_DIR = `${LETSENCRYPT_DIR}/tenantry`;
export const credentialsFile = (zone: string): string =>
  `${CREDENTIALS_DIR}/cloudflare-${zone}.ini`;

/**
 * The deploy hook: takes tenantry's host lock (remote/scripts.ts prelude: `flock` on
 * `<dir>/lock`, so a renewal never reloads nginx in the middle of an apply's file swap), then
 * reloads nginx if its config passes `nginx -t`. certbot runs it only from `certbot renew`:
 * tenantry's own certbot calls pass --no-directory-hooks, as they hold the lock already.
 */
export function deployHookScript(layout: HostLayout): Shell {
  const lock = lockFile(layout);
  return script(
    raw("#!/bin/sh"),
    raw("# Installed by tenantry: after certbot renews a certificate, nginx reloads to serve it."),
    raw("set -eu"),
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("umask 077"),
    raw("# Messages in double quotes: this text travels inside single-quoted shell twice."),
    sh`lock=${lock}`,
    raw('exec 9>>"$lock"'),
    raw(
      'flock -w 300 9 || { echo "tenantry: timed out waiting for $lock; nginx not reloaded" >&2; exit 1; }',
    ),
    sh`if ! out=$(${layout.nginx} -t 2>&1); then printf "tenantry: nginx -t fails, not reloading: %s\n" "$out" >&2; exit 1; fi`,
    sh`${layout.nginx} -s reload`,
    raw('echo "tenantry: nginx reloaded for ${RENEWED_LINEAGE:-a renewed certificate}"'),
  );
}

/**
 * What every certificate step checks and installs first: certbot itself, a renewal schedule
 * (Debian's certbot.timer under systemd, enabled if it is not; its /etc/cron.d/certbot
 * elsewhere) and the deploy hook.
 */
function renewalSupport(layout: HostLayout, needs: readonly string[]): Shell[] {
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
    raw(
      "# shellcheck disable=SC2016,SC1003 # the text of the hook, written as data, expands when certbot runs it",
    ),
    sh`printf '%s' ${deployHookScript(layout).text} >"$work/hook" || fail "cannot write the deploy hook (disk full?)"`,
    sh`mkdir -p "$(dirname ${DEPLOY_HOOK})"`,
    sh`if ! cmp -s "$work/hook" ${DEPLOY_HOOK}; then chmod 0755 "$work/hook"; replace_file "$work/hook" ${DEPLOY_HOOK}; fi`,
  ];
}

/**
 * certbot's arguments for a certificate: the ACME server and account, the lineage and its names,
 * never a forced renewal (--keep-until-expiring: a valid certificate with these names stays),
 * no directory hooks (the step reloads nginx itself, under the lock it already holds).
 */
export function certbotArgs(cert: CertificatePlan, authenticator: readonly string[]): string[] {
  const account =
    cert.account.email === undefined
      ? ["--register-unsafely-without-email"]
      : ["--email", cert.account.email, "--no-eff-email"];
  return [
    "certonly",
    "--non-interactive",
    "--agree-tos",
    "--keep-until-expiring",
    "--no-directory-hooks",
    "--key-type",
    "ecdsa",
    "--server",
    cert.account.directory,
    ...account,
    "--cert-name",
    cert.name,
    ...authenticator,
    ...cert.names.flatMap((n) => ["-d", n]),
  ];
}

/**
 * Runs certbot for `cert` and reports whether it issued: fails with the ACME server's own words
 * (certbot prints its "Detail:" lines) and says what keeps serving. One attempt per apply: no
 * retry, so a name that does not point here yet uses one of its 5 failed validations an hour.
 */
function requestCertificate(cert: CertificatePlan, authenticator: readonly string[]): Shell[] {
  const names = cert.names.join(", ");
  return [
    sh`before=$(cksum <${cert.certificate} 2>/dev/null || true)`,
    sh`if ! certbot ${certbotArgs(cert, authenticator)} >"$work/certbot.out" 2>&1; then`,
    sh`  if [ -s ${cert.certificate} ]; then kept=${"the certificate it has stays in place"}; else kept=${"HTTPS is not set up, and HTTP keeps serving"}; fi`,
    sh`  what=${`no certificate for ${names} from ${cert.account.directory}`}`,
    raw(
      `  fail "$what; $kept. certbot and the ACME server said: $(grep -v -e '^Saving debug log' -e '^$' "$work/certbot.out")"`,
    ),
    raw("fi"),
    sh`after=$(cksum <${cert.certificate} 2>/dev/null || true)`,
    sh`if [ "$before" = "$after" ]; then issued=0; echo ${`tenantry: certificate ${cert.name} is valid and not due; not renewed`}; else issued=1; echo ${`tenantry: certificate ${cert.name} issued for ${names}`}; fi`,
    raw(
      "# certbot keeps private keys 0600 in archive/; make sure of it whatever umask it ran with.",
    ),
    sh`key=$(readlink -f ${cert.key}) && chmod 0600 "$key"`,
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
export function tenantTlsScript(layout: HostLayout, target: TenantTlsTarget): Shell {
  const { tenant, certificate: cert, snippets } = target;
  const site = tlsSitePath(layout, tenant);
  const chain = cert.certificate.replace(/fullchain\.pem$/, "chain.pem");
  const steps: Shell[] = [];
  if (cert.kind === "acme") {
    if (target.webroot === undefined) throw new Error(`acme tenant ${tenant} has no webroot`);
    steps.push(
      ...renewalSupport(layout, ["certbot"]),
      sh`mkdir -p ${target.webroot} || fail ${`cannot create ${target.webroot}`}`,
      raw("# The site step only flags its change: the challenge location must be live now."),
      raw("reload_pending"),
      ...requestCertificate(cert, ["--webroot", "--webroot-path", target.webroot]),
    );
  } else {
    steps.push(
      raw("issued=0"),
      sh`if [ ! -s ${cert.certificate} ] || [ ! -s ${cert.key} ]; then fail ${`the host certificate for ${cert.names.join(", ")} (${cert.name}) is not there, so HTTPS is not set up and HTTP keeps serving; the host step requests it`}; fi`,
    );
  }
  return script(
    prelude(layout),
    installFunction(layout),
    raw('cat >"$work/tls-site" || fail "cannot read the HTTPS server from stdin (disk full?)"'),
    sh`[ -s "$work/tls-site" ] || fail ${`no HTTPS server for ${tenant} on stdin`}`,
    sh`if [ -f ${site} ] && ! grep -q -x -F ${markerLine(target.marker)} ${site}; then echo ${`tenantry: ${site} belongs to another deployment of ${tenant}; left in place`}; exit 0; fi`,
    steps,
    raw("# OCSP stapling where the CA offers it: only a certificate naming a responder gets it."),
    raw(': >"$work/stapling"'),
    sh`if command -v openssl >/dev/null 2>&1 && [ -n "$(openssl x509 -noout -ocsp_uri -in ${cert.certificate} 2>/dev/null)" ]; then printf 'ssl_stapling on;\nssl_stapling_verify on;\nssl_trusted_certificate %s;\n' ${chain} >"$work/stapling"; fi`,
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
 * Removes a tenant's HTTPS: the redirect first (HTTP serves again), the stapling snippet and the
 * HTTPS server, reloads, then (acme) deletes its certificate lineage with `certbot delete`, which
 * removes its renewal config. Leaves alone an HTTPS file another deployment of the tenant owns;
 * succeeds when nothing is left.
 */
export function tenantTlsRemoveScript(layout: HostLayout, target: TenantTlsTarget): Shell {
  const { tenant, certificate: cert, snippets } = target;
  const site = tlsSitePath(layout, tenant);
  const files = [`${snippets}/redirect.conf`, `${snippets}/stapling.conf`, site];
  const deleteLineage =
    cert.kind === "acme"
      ? [
          sh`if [ -e ${`${LETSENCRYPT_DIR}/renewal/${cert.name}.conf`} ] || [ -e ${`${LETSENCRYPT_DIR}/live/${cert.name}`} ]; then`,
          raw("  PATH=$PATH:/usr/sbin:/sbin"),
          sh`  certbot delete --non-interactive --cert-name ${cert.name} >"$work/certbot.out" 2>&1 || fail "certbot delete failed: $(cat "$work/certbot.out")"`,
          sh`  echo ${`tenantry: certificate ${cert.name} deleted, with its renewal config`}`,
          raw("fi"),
        ]
      : [];
  return script(
    prelude(layout),
    sh`if [ -f ${site} ] && ! grep -q -x -F ${markerLine(target.marker)} ${site}; then echo ${`tenantry: ${site} now belongs to a newer deployment; left in place`}; exit 0; fi`,
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
    deleteLineage,
    sh`echo ${`tenantry: ${tenant} HTTPS removed`}`,
  );
}

/**
 * The host's wildcard step (the Cloudflare credentials on stdin, `dns_cloudflare_api_token =
 * ...`): keeps them in a 0600 file certbot reads at every renewal, asks for `*.<zone>` through
 * DNS-01 or keeps the valid certificate, and reloads nginx when a renewed certificate is in use.
 */
export function wildcardCertificateScript(layout: HostLayout, cert: CertificatePlan): Shell {
  if (cert.zone === undefined) throw new Error(`${cert.name} is not a wildcard certificate`);
  const creds = credentialsFile(cert.zone);
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
    renewalSupport(layout, ["certbot", "python3-certbot-dns-cloudflare"]),
    sh`certbot plugins --non-interactive 2>/dev/null | grep -q -x -F '* dns-cloudflare' || fail "certbot's Cloudflare plugin is missing; as root run: apt-get install python3-certbot-dns-cloudflare, then pulumi up again"`,
    requestCertificate(cert, ["--dns-cloudflare", "--dns-cloudflare-credentials", creds]),
    raw("# Sites already serving it pick a renewed certificate up at a reload."),
    sh`if [ "$issued" = 1 ] && grep -q -r -F ${cert.certificate} ${sitesDir(layout)} && nginx_running; then nginx_test "$work/after" || fail "nginx -t fails; not reloading: $(cat "$work/after.out")"; : >${reloadFlag(layout)}; nginx_reload; fi`,
  );
}

/**
 * Deletes the host's wildcard certificate and its credentials, once no site serves it (its
 * tenants' TLS steps depend on this step, so Pulumi removes them first).
 */
export function wildcardRemoveScript(layout: HostLayout, cert: CertificatePlan): Shell {
  if (cert.zone === undefined) throw new Error(`${cert.name} is not a wildcard certificate`);
  return script(
    prelude(layout),
    sh`if grep -q -r -F ${cert.certificate} ${sitesDir(layout)}; then fail ${`a site still serves ${cert.name} (${cert.certificate}); remove the HTTPS of its tenants first`}; fi`,
    sh`if [ -e ${`${LETSENCRYPT_DIR}/renewal/${cert.name}.conf`} ] || [ -e ${`${LETSENCRYPT_DIR}/live/${cert.name}`} ]; then`,
    raw("  PATH=$PATH:/usr/sbin:/sbin"),
    sh`  certbot delete --non-interactive --cert-name ${cert.name} >"$work/certbot.out" 2>&1 || fail "certbot delete failed: $(cat "$work/certbot.out")"`,
    raw("fi"),
    sh`rm -f ${credentialsFile(cert.zone)}`,
    sh`echo ${`tenantry: certificate ${cert.name} deleted, with its renewal config and credentials`}`,
  );
}
