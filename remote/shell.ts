// The one place where values become shell text: POSIX single quoting, and a tagged template
// that quotes every interpolated value so scripts are written as code with data holes.

/** A piece of shell text that is already safe to splice verbatim (built by `sh` or `raw`). */
export class Shell {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** A value that may be interpolated into `sh`: quoted as one word, or spliced if already shell. */
export type ShellValue = string | number | Shell | readonly (string | number)[];

/**
 * Quotes a value as one POSIX shell word: `it's` → `'it'\''s'`. Every value that reaches a
 * remote shell goes through here. NUL cannot be carried by any shell word, so it is refused.
 */
export function quote(value: string | number): string {
  const text = String(value);
  if (text.includes("\0")) {
    throw new Error("a shell word cannot contain a NUL character");
  }
  if (/^[A-Za-z0-9_./:@%+,-]+$/.test(text)) {
    return text;
  }
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Marks constant shell code (never data) to be spliced as is. */
export function raw(code: string): Shell {
  return new Shell(code);
}

/**
 * Tagged template for shell code: the literal parts are code, every `${value}` is data and is
 * quoted (arrays become several quoted words); `Shell` values are spliced unchanged.
 */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): Shell {
  // An invalid escape (`\(` in a template) leaves its cooked string undefined: refuse it
  // rather than splice "undefined" into a script. Use raw() with String.raw for such code.
  if (strings.some((s) => s === undefined)) {
    throw new Error(`invalid escape in shell template: ${strings.raw.join("${}")}`);
  }
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? "");
  });
  return new Shell(out);
}

function render(value: ShellValue): string {
  if (value instanceof Shell) return value.text;
  if (typeof value === "string" || typeof value === "number") return quote(value);
  return value.map((v) => quote(v)).join(" ");
}

/** Joins lines of shell into one script. */
export function script(...lines: (Shell | readonly Shell[])[]): Shell {
  return new Shell(
    lines
      .flat()
      .map((l) => l.text)
      .join("\n") + "\n",
  );
}

/** `a && b && c`: each step runs only if the previous one succeeded. */
export function and(...steps: Shell[]): Shell {
  return new Shell(steps.map((s) => s.text).join(" && "));
}

/** `a || b`: the fallback runs only if the first failed. */
export function or(...steps: Shell[]): Shell {
  return new Shell(steps.map((s) => s.text).join(" || "));
}

/** `a | b`. */
export function pipe(...steps: Shell[]): Shell {
  return new Shell(steps.map((s) => s.text).join(" | "));
}
