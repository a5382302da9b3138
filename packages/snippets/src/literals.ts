/**
 * String, number and map literals for each snippet language, safe for any input: a literal always
 * evaluates to exactly the value it was made from, wherever in its file it is pasted.
 *
 * Rules every language shares:
 * - Strings are made well-formed first (an unpaired surrogate is not Unicode text and no UTF-8
 *   encoder can send it; it becomes U+FFFD, as `TextEncoder` would make it).
 * - Control characters, line and paragraph separators, bidirectional overrides and other invisible
 *   characters are written as escapes: the code shown is the code that runs ("Trojan Source"), and
 *   no editor, shell or HTML parser can turn them into line breaks.
 * - Other Unicode (accents, CJK, emoji) stays as it is: the files are UTF-8.
 * - User data never goes into a comment (a PHP `//` comment ends at `?>`).
 */

export type Primitive = string | number | boolean;

// Beyond C0 controls: DEL, C1 controls, zero-width space, LRM/RLM, U+2028/2029, bidi embeddings and
// isolates, BOM. Zero-width joiners stay: emoji sequences and several scripts need them.
const INVISIBLE = /[\u007f-\u009f\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, "g");

/** Whether a character (one code point) is written as an escape in every language. */
export const isInvisible = (ch: string) => ch < " " || INVISIBLE.test(ch);

const hex = (ch: string, width: number) => ch.codePointAt(0)!.toString(16).toUpperCase().padStart(width, "0");

const wellFormed = (s: string) => s.toWellFormed();

/** A JavaScript number literal that every language here reads back as the same double. */
export function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`cannot write ${n} in a snippet: JSON has no such number`);
  // String(-0) is "0": JSON (what every snippet sends) has no negative zero either.
  return String(n);
}

/**
 * A JavaScript string literal. `html: "script"`: also safe inside an HTML `<script>` element (`<`
 * is escaped, so no `</script>` or `<!--` appears); `html: "attribute"`: also safe inside a
 * double-quoted HTML attribute (`"` and `&` are escaped, so the attribute cannot end early and no
 * character reference is decoded).
 */
export function jsString(
  value: string,
  options: { quote?: '"' | "'"; html?: "script" | "attribute" } = {},
): string {
  const quote = options.quote ?? '"';
  const html =
    options.html === "script"
      ? (ch: string) => ch === "<"
      : options.html === "attribute"
        ? (ch: string) => ch === '"' || ch === "&"
        : () => false;
  let out = quote;
  for (const ch of wellFormed(value)) {
    if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (html(ch) || (isInvisible(ch) && ch <= "\u00ff")) out += `\\x${hex(ch, 2)}`;
    else if (ch === quote) out += `\\${quote}`;
    else if (isInvisible(ch)) out += `\\u${hex(ch, 4)}`;
    else out += ch;
  }
  return out + quote;
}

/** A Python string literal; Python's escapes are JavaScript's for every character escaped here. */
export const pythonString = (value: string) => jsString(value);

/** A JSON string, with the invisible characters JSON leaves raw escaped too. */
export function jsonString(value: string): string {
  // JSON.stringify already escapes C0 controls (and unpaired surrogates, gone here anyway).
  return JSON.stringify(wellFormed(value)).replace(INVISIBLE_ALL, (ch) => `\\u${hex(ch, 4).toLowerCase()}`);
}

/**
 * A PHP string literal: single-quoted (only `\\` and `\'` mean anything there, so `$`, `{$` and
 * `?>` are plain text) unless it holds invisible characters, then double-quoted with `\u{…}` escapes.
 */
export function phpString(value: string): string {
  const s = wellFormed(value);
  if (![...s].some(isInvisible)) return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  let out = '"';
  for (const ch of s) {
    if (ch === "\\" || ch === '"' || ch === "$") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (isInvisible(ch)) out += `\\u{${hex(ch, 1)}}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * A Ruby string literal, double-quoted: `#` is escaped where it would start an interpolation
 * (`#{`, `#$`, `#@`); `\u{…}` escapes (Ruby's `\x` would write a byte, not a character).
 */
export function rubyString(value: string): string {
  const chars = [...wellFormed(value)];
  let out = '"';
  chars.forEach((ch, i) => {
    const next = chars[i + 1];
    if (ch === "\\" || ch === '"') out += `\\${ch}`;
    else if (ch === "#" && (next === "{" || next === "$" || next === "@")) out += "\\#";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (isInvisible(ch)) out += `\\u{${hex(ch, 1)}}`;
    else out += ch;
  });
  return `${out}"`;
}

/**
 * A POSIX shell word that is exactly `value`: single quotes, where nothing is special but the
 * quote itself (written `'\''`). `value` must hold no NUL (no shell argument can) — callers pass
 * JSON text or checked values.
 */
export function shellQuote(value: string): string {
  const s = wellFormed(value);
  if (s.includes("\0")) throw new RangeError("a shell argument cannot hold a NUL character");
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** Escapes text for a double-quoted HTML attribute value. */
export const htmlAttribute = (value: string) => value.replaceAll("&", "&amp;").replaceAll('"', "&quot;");
