// A bounded request loop against nginx on a test host: one GET at a time (no keep-alive, each
// at most 3 s), until stopped or a limit in count or time is reached. What a customer's
// browser sees during an upgrade: every answer that is not a 200 counts as failed.
import { ask } from "./backends";

export interface TrafficReport {
  readonly requests: number;
  readonly failed: number;
  /** Each distinct 200 body, in the order first seen (which container answered). */
  readonly bodies: readonly string[];
  /** The failed answers: "502", "closed", or the error. */
  readonly failures: readonly string[];
  /** From the first failed request's start to the last one's end (0 without failures). */
  readonly failedWindowMs: number;
}

export interface Traffic {
  /** Stops the loop after the request in flight and reports. */
  stop(): Promise<TrafficReport>;
}

export function startTraffic(
  target: { address: string; port: number; host: string },
  limits: { maxRequests: number; maxSeconds: number } = { maxRequests: 20_000, maxSeconds: 120 },
): Traffic {
  let stopping = false;
  const bodies: string[] = [];
  const failures: string[] = [];
  let requests = 0;
  let firstFailed: number | undefined;
  let lastFailed: number | undefined;
  const deadline = Date.now() + limits.maxSeconds * 1000;
  const loop = (async () => {
    while (!stopping && requests < limits.maxRequests && Date.now() < deadline) {
      const started = Date.now();
      requests += 1;
      let failure: string | undefined;
      try {
        const answer = await ask(target.address, target.port, target.host);
        if (answer.kind === "closed") failure = "closed";
        else if (answer.status !== 200) failure = String(answer.status);
        else if (!bodies.includes(answer.body)) bodies.push(answer.body);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
      if (failure !== undefined) {
        failures.push(failure);
        firstFailed ??= started;
        lastFailed = Date.now();
      }
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return {
        requests,
        failed: failures.length,
        bodies,
        failures,
        failedWindowMs:
          firstFailed === undefined || lastFailed === undefined ? 0 : lastFailed - firstFailed,
      };
    },
  };
}
