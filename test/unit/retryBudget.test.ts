// How long a remote command keeps dialling before it fails its step, with the program's limits
// and the provider's backoff: an unreachable host about a minute, a refused connection or a
// changed host key (retried like any dial error by pulumi-command) about ten seconds.
import { expect, it } from "vitest";
import { DIAL_ERROR_LIMIT, PER_DIAL_TIMEOUT } from "../../remote/connection";
import { retryDelays } from "../support/runner";

const waits = retryDelays(DIAL_ERROR_LIMIT).reduce((a, b) => a + b, 0) / 1000;

it("fails an unreachable host within about a minute", () => {
  const dials = DIAL_ERROR_LIMIT + 1;
  const worst = dials * PER_DIAL_TIMEOUT + waits;
  expect(worst).toBeGreaterThan(45);
  expect(worst).toBeLessThanOrEqual(70);
});

it("fails a refused connection or a changed host key within about ten seconds", () => {
  expect(waits).toBeGreaterThan(5); // still room for a MaxStartups burst to drain
  expect(waits).toBeLessThanOrEqual(15);
});
