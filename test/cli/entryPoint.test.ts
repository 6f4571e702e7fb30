// `tenantry entry-point`: what root installs on a host is what the program's commands call.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, expect, it } from "vitest";
import { entryPointText, entryPointVersion } from "../../remote/entry";
import { tenantry } from "./run";

const dir = mkdtempSync(path.join(tmpdir(), "tenantry-cli-entry-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("prints the entry point, and with --version only its version", async () => {
  const text = await tenantry(dir, "entry-point");
  expect([text.code, text.stderr]).toEqual([0, ""]);
  expect(text.stdout).toBe(entryPointText());
  expect(text.stdout.startsWith("#!/bin/sh\n")).toBe(true);
  const version = await tenantry(dir, "entry-point", "--version");
  expect([version.code, version.stdout]).toEqual([0, `${entryPointVersion()}\n`]);
});
