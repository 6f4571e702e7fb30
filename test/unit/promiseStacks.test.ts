// The stack trace limit is lowered only while resources are built, and never for a user who
// debugs promise leaks with the SDK's own switch.
import { describe, expect, it } from "vitest";
import { withoutPromiseStacks } from "../../runtime/promiseStacks";

const stackLines = () => (new Error("probe").stack ?? "").split("\n").length;

describe("withoutPromiseStacks", () => {
  it("builds with empty stacks, then restores the previous limit", () => {
    const before = Error.stackTraceLimit;
    const inside = withoutPromiseStacks(() => stackLines(), {});
    expect(inside).toBe(1); // the message line only
    expect(Error.stackTraceLimit).toBe(before);
    expect(stackLines()).toBeGreaterThan(1);
  });

  it("restores the limit when the build throws, and the error keeps its message", () => {
    const before = Error.stackTraceLimit;
    expect(() =>
      withoutPromiseStacks(() => {
        throw new Error("host vps1 does not pull image x");
      }, {}),
    ).toThrow("host vps1 does not pull image x");
    expect(Error.stackTraceLimit).toBe(before);
  });

  it("keeps full stacks when PULUMI_DEBUG_PROMISE_LEAKS is set", () => {
    const inside = withoutPromiseStacks(() => stackLines(), { PULUMI_DEBUG_PROMISE_LEAKS: "1" });
    expect(inside).toBeGreaterThan(1);
  });
});
