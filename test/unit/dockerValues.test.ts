// The provider's read-back form of a CPU share, as kreuzwerker's nanoInt64ToDecimalString prints
// it: sending anything else would replace the container on every apply.
import { describe, expect, it } from "vitest";
import { cpusRoundTrip, providerCpus } from "../../core/dockerValues";

describe("providerCpus", () => {
  it.each([
    [0.5, "0.5"],
    [0.25, "0.25"],
    [0.16, "0.16"],
    [0.1, "0.1"],
    [0.33, "0.33"],
    [1, "1.0"],
    [1.5, "1.5"],
    [2, "2.0"],
    [1.05, "1.05"],
    [10, "10."],
    [12.5, "12.5"],
    [100, "100."],
    // The provider's own quirk: nine zeros in FloatString(9) means FloatString(1), rounded.
    [0.05, "0.1"],
    [0.04, "0.0"],
  ])("%s CPU reads back as %s", (cpus, text) => {
    expect(providerCpus(cpus)).toBe(text);
  });

  it("keeps every share from 0.10 to 8.00 in steps of 0.01, and no share below 0.10", () => {
    const lossy: number[] = [];
    for (let hundredths = 1; hundredths <= 800; hundredths++) {
      if (!cpusRoundTrip(hundredths / 100)) lossy.push(hundredths / 100);
    }
    expect(lossy).toEqual([0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09]);
  });
});
