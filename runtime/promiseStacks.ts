// The Pulumi SDK formats a stack trace for every promise it makes (one per output property:
// dozens per docker.Container) and keeps it only for its promise-leak report. Through source
// maps that formatting was two thirds of the program's evaluation time (README, Performance).
// Each resource's own source position does not depend on this: the SDK lifts the limit for it.

/**
 * Runs `build` with `Error.stackTraceLimit` at 0 and puts the limit back afterwards, even when
 * `build` throws. Errors thrown inside carry their message but no stack. With
 * PULUMI_DEBUG_PROMISE_LEAKS set (the SDK's switch for leak reports with stacks), stacks stay.
 */
export function withoutPromiseStacks<T>(
  build: () => T,
  env: Readonly<Record<string, string | undefined>> = process.env,
): T {
  if (env.PULUMI_DEBUG_PROMISE_LEAKS) return build();
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return build();
  } finally {
    Error.stackTraceLimit = saved;
  }
}
