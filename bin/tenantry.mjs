#!/usr/bin/env node
// Entry point of the `tenantry` command: runs the TypeScript CLI through tsx, so the CLI and
// the Pulumi program share one source tree with no build step.
import { register } from "tsx/esm/api";

register();
await import("../cli/main.ts");
