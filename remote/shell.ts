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
  if (text.includes(HOLE_OPEN)) return quoteWithHoles(text);
  return quoteLiteral(text);
}

function quoteLiteral(text: string): string {
  if (/^[A-Za-z0-9_./:@%+,-]+$/.test(text)) {
    return text;
  }
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/*
 * Host values. The root entry point (remote/entry.ts) is one constant script for every host: an
 * operation's body is built by the same builders as any script, with a placeholder where the
 * value is only known when the operation is called. The placeholder travels through the
 * builders' string joins like any text and becomes `"${name}"` here, where it is quoted: a
 * variable the entry point set from an argument it validated. Private-use characters, which no
 * validated value contains, mark it.
 */
const HOLE_OPEN = "\uE000";
const HOLE_CLOSE = "\uE001";
const HOLES = new RegExp(`${HOLE_OPEN}([a-z_][a-z0-9_]*|@)${HOLE_CLOSE}`, "g");

/** A placeholder for the value of shell variable `name` (set by the entry point). */
export function hostValue(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a shell variable name: ${name}`);
  return `${HOLE_OPEN}${name}${HOLE_CLOSE}`;
}

/** A placeholder for the operation's remaining arguments: `"$@"`, only as a whole word. */
export const HOST_ARGS = `${HOLE_OPEN}@${HOLE_CLOSE}`;

/** Whether text still holds a placeholder (a host value that reached code, not data). */
export function hasHostValue(text: string): boolean {
  return text.includes(HOLE_OPEN) || text.includes(HOLE_CLOSE);
}

function quoteWithHoles(text: string): string {
  if (text === HOST_ARGS) return '"$@"';
  let out = "";
  let last = 0;
  for (const m of text.matchAll(HOLES)) {
    if (m[1] === "@") throw new Error("the operation's arguments are a word of their own");
    if (m.index > last) out += quoteLiteral(text.slice(last, m.index));
    out += `"\${${m[1]}}"`;
    last = m.index + m[0].length;
  }
  if (last < text.length) out += quoteLiteral(text.slice(last));
  if (hasHostValue(out)) throw new Error(`a malformed host value in ${JSON.stringify(text)}`);
  return out;
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
