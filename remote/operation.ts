// Pure: tenantry's root operations, and the command text that calls one. Nothing runs as root on
// a host but the entry point (remote/entry.ts), a constant script root installs once; the
// deploy user's sudoers line names only it. An operation is a name, the arguments it takes
// (each checked against its pattern here and again on the host) and a body the entry point
// runs, built with placeholders (shell.ts hostValue) for the arguments. Content, including
// secrets, travels on stdin, never as an argument.
import { hostValue, raw, sh, type Shell } from "./shell";

/** Where the entry point is installed (README "Preparing a host"). */
export const ENTRY_POINT = "/usr/local/sbin/tenantry-root";

/** One argument of an operation: the shell variable it sets and what it must look like. */
export interface OperationParam {
  /** The variable the body reads (hostValue(name)). */
  readonly name: string;
  /**
   * A POSIX extended regular expression the whole value must match (grep -E -x, C locale), in
   * the subset JavaScript reads alike: classes, groups, `|`, `?`, `*`, `+`, `{m,n}`.
   */
  readonly pattern: string;
  /** A value matching this (anywhere, grep -E) is refused even when the pattern matches. */
  readonly deny?: string;
  /** What a valid value is, for the error. */
  readonly what: string;
  /** May be empty (the body treats "" as "not given"). */
  readonly optional?: boolean;
}

export interface RootOperation {
  /** The operation's name on the entry point's command line: `tenantry-root site-install ...`. */
  readonly name: string;
  /** What it does, one line (the entry point's usage text). */
  readonly summary: string;
  readonly params: readonly OperationParam[];
  /** Each further argument, checked alike; the body reads them as hostArgs ("$@"). */
  readonly rest?: OperationParam;
  /** The body, built once when the entry point is rendered. */
  readonly body: () => Shell;
}

/** The placeholder for argument `name` in a body: the variable the entry point set from it. */
export const argValue = (name: string): string => hostValue(`a_${name}`);

/** Patterns the operations share. */
export const PATTERNS = {
  /** A manifest name: tenant, host, service (manifest/schema.ts DNS_LABEL). */
  name: "[a-z]([a-z0-9-]{0,29}[a-z0-9])?",
  /** A Docker object name tenantry makes: tenant and service joined, a generation's hex. */
  dockerName: "[a-z][a-z0-9-]{0,126}[a-z0-9]",
  /** An absolute, normalised path: no "." or ".." segment, no "//", no trailing "/". */
  path: "(/[A-Za-z0-9_][A-Za-z0-9._-]*)+",
  /** The segment rule `path` cannot say alone: a "." or ".." segment. */
  dotSegment: "/\\.\\.?(/|$)",
} as const;

/** A value the entry point refuses: the same check, made before any command is built. */
export function checkArgument(op: RootOperation, param: OperationParam, value: string): void {
  const fail = (): never => {
    throw new Error(
      `tenantry-root ${op.name}: ${param.name} ${JSON.stringify(value)} is not ${param.what}`,
    );
  };
  if (value === "") {
    if (param.optional === true) return;
    fail();
  }
  if (/[\n\r\0]/.test(value) || !new RegExp(`^(?:${param.pattern})$`).test(value)) fail();
  if (param.deny !== undefined && new RegExp(param.deny).test(value)) fail();
}

/** The command line that runs `op` as root: the entry point and its checked arguments. */
export function operationLine(
  op: RootOperation,
  args: readonly string[],
  rest: readonly string[] = [],
): Shell {
  if (args.length !== op.params.length) {
    throw new Error(
      `tenantry-root ${op.name} takes ${op.params.length} arguments, not ${args.length}`,
    );
  }
  op.params.forEach((p, i) => checkArgument(op, p, args[i]!));
  if (rest.length > 0 && op.rest === undefined) {
    throw new Error(`tenantry-root ${op.name} takes no further arguments`);
  }
  for (const value of rest) checkArgument(op, op.rest!, value);
  return sh`${[ENTRY_POINT, op.name, ...args, ...rest]}`;
}

/**
 * The command text that runs an operation as root: directly for root, else through `sudo -n`.
 * A user who may not run the entry point, or a host without it, gets a message naming the fix.
 */
export function asRoot(
  user: string,
  op: RootOperation,
  args: readonly string[],
  rest: readonly string[] = [],
): string {
  const line = operationLine(op, args, rest);
  const missing = `tenantry: this host has no ${ENTRY_POINT}, the one command tenantry runs as root; install it as root (README, "Preparing a host"), then run again`;
  const check = sh`if [ ! -x ${ENTRY_POINT} ]; then printf '%s\\n' ${missing} >&2; exit 1; fi`;
  if (user === "root") return sh`/bin/sh -c ${`${check.text}\nexec ${line.text}`}`.text;
  // sudo -l names the command it would allow; -n never asks for a password.
  const wrapper = raw(
    `${check.text}\nif sudo -n -l "$1" >/dev/null 2>&1; then shift 2; exec sudo -n "$@"; fi\nprintf '%s\\n' "$2" >&2\nexit 1`,
  );
  const argv = line.text;
  return `${sh`/bin/sh -c ${wrapper.text} tenantry-sudo ${ENTRY_POINT} ${sudoHint(user)}`.text} ${argv}`;
}

/** The sudoers line a non-root SSH user needs (documented in the README). */
export function sudoersLine(user: string): string {
  return `${user} ALL=(root) NOPASSWD: ${ENTRY_POINT}`;
}

function sudoHint(user: string): string {
  return `tenantry: user ${user} may not run ${ENTRY_POINT} through sudo without a password; add to /etc/sudoers.d/tenantry: ${sudoersLine(user)}`;
}
