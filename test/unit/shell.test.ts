// The quoting helper against real shells: every hostile value must come back byte for byte.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { and, or, pipe, quote, raw, script, sh } from "../../remote/shell";
import { findTool } from "../support/prereq";

const HOSTILE: ReadonlyArray<readonly [string, string]> = [
  ["single quote", "it's"],
  ["only quotes", "''"],
  ["double quotes", 'say "hi"'],
  ["command substitution", "$(touch /tmp/pwned)"],
  ["backticks", "`id`"],
  ["variable", "$HOME ${PATH}"],
  ["newlines", "line one\nline two\n\n"],
  ["spaces and tabs", " two  words\t"],
  ["semicolon and ampersand", "a; rm -rf / & b"],
  ["glob", "*"],
  ["empty string", ""],
  ["leading dash", "-rf"],
  ["double dash", "--"],
  ["unicode", "ünïcödé ✓ 日本"],
  ["backslashes", "a\\nb\\"],
  ["history and comment", "!# x"],
  ["tilde and braces", "~/{a,b}"],
  ["redirection", "> /etc/passwd <x"],
  ["pipe", "a|b"],
  ["assignment", "A=b"],
  ["safe word", "acme.example.com:8080/path@x%y+z,w-v_u"],
];

/** The shells a command line meets: /bin/sh runs the scripts, bash is root's usual login shell. */
const SHELLS = ["/bin/sh", findTool("bash")].filter((s): s is string => s !== undefined);

function printed(shell: string, commandLine: string): Buffer {
  return execFileSync(shell, ["-c", commandLine]);
}

describe("quote", () => {
  describe.each(SHELLS)("through %s", (shell) => {
    it.each(HOSTILE)("round-trips %s", (_name, value) => {
      expect(printed(shell, `printf %s ${quote(value)}`).equals(Buffer.from(value))).toBe(true);
      expect(printed(shell, sh`printf %s ${value}`.text).equals(Buffer.from(value))).toBe(true);
    });

    it("keeps each element of an array one word", () => {
      const values = HOSTILE.map(([, v]) => v);
      const out = printed(shell, sh`printf '%s\\0' ${values}`.text);
      expect(out.toString("utf8").split("\0").slice(0, -1)).toEqual(values);
    });
  });

  it.each([
    ["acme", "acme"],
    ["/etc/nginx/tenantry/sites/acme.conf", "/etc/nginx/tenantry/sites/acme.conf"],
    ["it's", `'it'\\''s'`],
    ["", "''"],
    ["two words", "'two words'"],
    ["-rf", "-rf"],
    [42, "42"],
  ] as const)("renders %j as %s", (value, expected) => {
    expect(quote(value)).toBe(expected);
  });

  it("refuses NUL, which no shell word can carry", () => {
    expect(() => quote("a\0b")).toThrow("a shell word cannot contain a NUL character");
    expect(() => sh`echo ${"\0"}`).toThrow("NUL");
  });
});

describe("sh and the combinators", () => {
  it("quotes interpolated data and splices Shell values unchanged", () => {
    const file = "/tmp/it's here";
    expect(sh`cat ${file} | ${raw("wc -l")}`.text).toBe(`cat '/tmp/it'\\''s here' | wc -l`);
    expect(sh`ls ${["-l", "a b"]}`.text).toBe("ls -l 'a b'");
    expect(sh`echo ${sh`${"$x"}`}`.text).toBe("echo '$x'");
  });

  it("joins steps with &&, || and |, and lines into a script", () => {
    const [a, b] = [sh`test -f ${"a b"}`, raw("true")];
    expect(and(a, b).text).toBe("test -f 'a b' && true");
    expect(or(a, b).text).toBe("test -f 'a b' || true");
    expect(pipe(a, b).text).toBe("test -f 'a b' | true");
    expect(script(a, [b, b]).text).toBe("test -f 'a b'\ntrue\ntrue\n");
  });
});
