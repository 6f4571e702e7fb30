// How a service is replaced, and what names and addresses its generations get (core/rollout.ts).
import { describe, expect, it } from "vitest";
import {
  generationContainerName,
  healthWaitSeconds,
  laneAddress,
  serviceRollout,
} from "../../core/rollout";

describe("serviceRollout", () => {
  it("is rolling by default only for a service with a health check and no volumes", () => {
    expect(serviceRollout({ health: "/", port: 80, volumes: {} })).toBe("rolling");
    // Two containers on one volume would be two writers of its files (a SQLite database).
    expect(serviceRollout({ health: "/", port: 80, volumes: { data: "/data" } })).toBe(
      "stop-first",
    );
    // Without a health check nothing says when the new one is ready.
    expect(serviceRollout({ port: 80, volumes: {} })).toBe("stop-first");
  });

  it("follows what the manifest says either way", () => {
    expect(serviceRollout({ rollout: "stop-first", health: "/", port: 80, volumes: {} })).toBe(
      "stop-first",
    );
    expect(
      serviceRollout({ rollout: "rolling", health: "/", port: 80, volumes: { d: "/d" } }),
    ).toBe("rolling");
  });
});

describe("laneAddress", () => {
  it("maps a generation's 3 bytes into 127.0.0.0/8, never a .0 or .255 last byte", () => {
    expect(laneAddress("000000")).toBe("127.0.0.1");
    expect(laneAddress("8e4715")).toBe("127.142.71.22");
    expect(laneAddress("fffffe")).toBe("127.255.255.1");
    for (const hex of ["0000fd", "0000fe", "abcdff"]) {
      const last = Number(laneAddress(hex).split(".")[3]);
      expect(last).toBeGreaterThanOrEqual(1);
      expect(last).toBeLessThanOrEqual(254);
    }
  });

  it("refuses anything but 6 lower-case hex digits (its text reaches nginx and Docker)", () => {
    for (const bad of ["", "12345", "1234567", "ABCDEF", "12;rm", "0x1234"]) {
      expect(() => laneAddress(bad)).toThrow(/not a generation/);
    }
  });

  it("gives distinct generations distinct addresses and names", () => {
    expect(laneAddress("0a0b0c")).not.toBe(laneAddress("0a0b0d"));
    expect(generationContainerName("acme-web", "0a0b0c")).toBe("acme-web-0a0b0c");
  });
});

describe("healthWaitSeconds", () => {
  it("covers the start period and every retry of the checks, plus one interval", () => {
    expect(healthWaitSeconds({ intervalSeconds: 30, startPeriodSeconds: 30, retries: 3 })).toBe(
      180,
    );
    expect(healthWaitSeconds({ intervalSeconds: 2, startPeriodSeconds: 30, retries: 3 })).toBe(40);
  });
});
