// The evaluation clock: started by the first import of an entry module (startClock.ts), read
// by the child once runOffline returns, after pulumi.runtime.disconnect().
export const clock = {
  start: Number.NaN,
  cpu: { user: 0, system: 0 },
  /** Monotonic µs, the clock of V8 CPU profiles' sample timestamps. */
  startUs: 0,
};

/** Monotonic time in µs, comparable with the timestamps of `node --cpu-prof` profiles. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
