import fc from "fast-check";

/** Pieces that break naive quoting in at least one of the languages, mixed with arbitrary Unicode. */
export const NASTY = [
  "'",
  '"',
  "\\",
  "\\'",
  "\\\\",
  "$HOME",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell and JS interpolation, as text
  "${HOME}",
  "$(id)",
  "`id`",
  "#{x}",
  "#$x",
  "#@x",
  "{$x}",
  "%s",
  "\\u0041",
  "\\x41",
  "\\N{DASH}",
  "\n",
  "\r\n",
  "\r",
  "\t",
  "\u0000",
  "\u0007",
  "\u001b[31m",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u2028",
  "\u2029",
  "\u202e",
  "\u2066",
  "\u200b",
  "\u200d",
  "\ufeff",
  "</script>",
  "<!--",
  "<?php",
  "?>",
  "&amp;",
  "&quot;",
  "é",
  "中文",
  "😀",
  "👨‍👩‍👧",
  "\ud83d",
  "\ude00",
  "EOF",
  "'''",
  '"""',
  "__proto__",
];

/** Strings mixing the nasty pieces with arbitrary code points (unpaired surrogates included). */
export const nastyString = (maxLength = 30) =>
  fc
    .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: "binary", maxLength: 8 })), { maxLength })
    .map((parts) => parts.join(""));
