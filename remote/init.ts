// Pure: a tenant's first-run (init) step as it runs on the host. The command runs inside the
// service's container with `docker exec` once the container is healthy; secrets and the domain
// reach it as environment through an --env-file written from stdin with mode 0600, never in
// the command text (which `ps` shows). A marker file records the definition that last
// succeeded, and the command sees it as TENANTRY_INIT_PREVIOUS.
import { tenantStateDir } from "../plan/backup";
import type { InitStepPlan } from "../plan/lifecycle";
import { containerOfFunction } from "./containers";
import { PATTERNS, argValue, asRoot, type RootOperation } from "./operation";
import { TENANT_PARAM } from "./scripts";
import { HOST_ARGS, raw, script, sh, type Shell } from "./shell";

/** Seconds an init step waits for its container to be running and healthy. */
export const INIT_WAIT_SECONDS = 300;

/** Where the id of the step's last successful run is kept on the host. */
export const initMarker = (identity: string, step: string): string =>
  `${tenantStateDir(identity)}/init/${step}`;

export interface InitEnvironment {
  readonly tenant: string;
  readonly domain: string;
  readonly url: string;
  /** Secret name → value (the command's env name is the secret's name). */
  readonly secrets: Readonly<Record<string, string>>;
}

/**
 * The --env-file the command gets (docker's format: one KEY=VALUE per line, no quoting). The
 * tenant's generated secrets are letters and digits, so every value is one line.
 */
export function initEnvironment(step: InitStepPlan, env: InitEnvironment): string {
  const lines = [
    `TENANTRY_TENANT=${env.tenant}`,
    `TENANTRY_DOMAIN=${env.domain}`,
    `TENANTRY_URL=${env.url}`,
    ...step.secrets.map((name) => {
      const value = env.secrets[name];
      if (value === undefined) throw new Error(`init step ${step.name}: no secret ${name}`);
      if (/[\n\r\0]/.test(value))
        throw new Error(`init step ${step.name}: ${name} is not one line`);
      return `${name}=${value}`;
    }),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Runs one init step (as root: the marker lives in tenantry's state directory). Fails, with
 * the command's own output, when the container does not come up healthy or the command fails;
 * the next `pulumi up` runs it again.
 */
export function initScript(
  identity: string,
  step: Pick<InitStepPlan, "name" | "containerName" | "command" | "id">,
): Shell {
  const container = step.containerName;
  const marker = initMarker(identity, step.name);
  const label = `init step ${step.name} of tenant ${identity}`;
  const tries = INIT_WAIT_SECONDS / 2;
  return script(
    raw("set -eu"),
    raw("PATH=$PATH:/usr/sbin:/sbin"),
    raw("umask 077"),
    raw('fail() { printf "tenantry: %s\\n" "$*" >&2; exit 1; }'),
    raw('work=$(mktemp -d) || fail "cannot create a temporary directory"'),
    raw(`trap 'rm -rf "$work"' EXIT`),
    raw("# The environment first: stdin is read once, before anything can fail on it."),
    raw('cat >"$work/env" || fail "cannot read the environment from stdin (disk full?)"'),
    containerOfFunction(),
    raw("# Running and healthy (or running, without a health check) before the command runs."),
    sh`container=$(container_of ${container})`,
    raw("i=0"),
    raw("while :; do"),
    sh`  state=$(docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$container" 2>/dev/null) || state=missing`,
    raw('  case "$state" in'),
    raw('    "running healthy" | "running none") break ;;'),
    sh`    missing) fail ${`${label}: container ${container} does not exist; init runs when the tenant is active`} ;;`,
    sh`    exited* | created* | paused* | dead*) fail ${`${label}: container ${container} is not running`}" ($state); init runs when the tenant is active" ;;`,
    raw("  esac"),
    raw("  i=$((i + 1))"),
    sh`  if [ "$i" -ge ${tries} ]; then fail ${`${label}: container ${container} not healthy after ${INIT_WAIT_SECONDS} s`}" (state: $state)"${`; see: docker logs ${container}`}; fi`,
    raw("  sleep 2"),
    raw("done"),
    sh`mkdir -p "$(dirname ${marker})"`,
    raw('previous=""'),
    sh`if [ -f ${marker} ]; then previous=$(cat ${marker}); fi`,
    sh`printf 'TENANTRY_INIT_ID=%s\\nTENANTRY_INIT_PREVIOUS=%s\\n' ${step.id} "$previous" >>"$work/env"`,
    sh`if docker exec --env-file "$work/env" "$container" ${step.command} >"$work/out" 2>&1; then`,
    raw('  cat "$work/out"'),
    raw("else"),
    raw("  rc=$?"),
    raw('  cat "$work/out" >&2'),
    sh`  fail ${`${label} failed`}" (exit $rc, output above); fix it and run pulumi up again: the step runs again"`,
    raw("fi"),
    sh`if ! { printf '%s\\n' ${step.id} >${marker}.new && mv -f ${marker}.new ${marker}; }; then fail ${`cannot record ${label} in ${marker} (disk full?)`}; fi`,
    sh`echo ${`tenantry: ${label} done (${step.id})`}`,
  );
}

/**
 * What the step's command resource runs when only other inputs change (its environment, the
 * connection): nothing. The step runs again only when its definition (the trigger) changes.
 */
export function initUnchangedScript(
  identity: string,
  step: Pick<InitStepPlan, "name" | "id">,
): Shell {
  return script(
    sh`echo ${`tenantry: init step ${step.name} of tenant ${identity} unchanged (${step.id}); it runs again only when its definition changes`}`,
  );
}

export const INIT_RUN: RootOperation = {
  name: "init",
  summary: "runs a tenant's init step COMMAND in its container (the environment on stdin)",
  params: [
    TENANT_PARAM,
    { name: "step", pattern: PATTERNS.name, what: "an init step name" },
    { name: "container", pattern: PATTERNS.dockerName, what: "a container name" },
    { name: "id", pattern: "[0-9a-f]{16}", what: "an init step id (16 hex digits)" },
  ],
  // Words of the command, run by docker exec (never by a shell): any single line.
  rest: { name: "command", pattern: ".*", optional: true, what: "a command word" },
  body: () =>
    initScript(argValue("tenant"), {
      name: argValue("step"),
      containerName: argValue("container"),
      id: argValue("id"),
      command: [HOST_ARGS],
    }),
};

export const INIT_OPERATIONS = [INIT_RUN];

/**
 * The step's commands: `create` runs it as root (its marker is in tenantry's state directory);
 * `update` only says so, as the SSH user (it touches nothing).
 */
export function initCommands(
  user: string,
  identity: string,
  step: InitStepPlan,
): { create: string; update: string } {
  return {
    create: asRoot(
      user,
      INIT_RUN,
      [identity, step.name, step.containerName, step.id],
      step.command,
    ),
    update: sh`/bin/sh -c ${initUnchangedScript(identity, step).text}`.text,
  };
}
