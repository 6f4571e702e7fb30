// shellcheck over a generated script, as POSIX sh: its findings, or "" when it passes.
import { execFileSync } from "node:child_process";

export function shellcheck(text: string): string {
  try {
    execFileSync("shellcheck", ["-s", "sh", "-"], { input: text, encoding: "utf8" });
    return "";
  } catch (error) {
    return (error as { stdout?: string }).stdout ?? String(error);
  }
}
