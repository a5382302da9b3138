import { type ComponentChildren, h } from "preact";

/**
 * Light, safe Markdown for message text: `[label](url)`, bare https URLs, `**bold**`, `*italic*` and
 * line breaks. Built as Preact vnodes (text children are text nodes): markup in a message is never
 * parsed as HTML, and only http(s) and mailto links become links — `[x](javascript:…)` stays text.
 */

/** The URL when it is an absolute http(s) or mailto URL; undefined otherwise. */
export function safeUrl(raw: unknown, schemes: readonly string[] = ["http:", "https:", "mailto:"]) {
  if (typeof raw !== "string") return undefined;
  try {
    const url = new URL(raw.trim());
    return schemes.includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

export const link = (href: string, label: ComponentChildren) =>
  h("a", { href, target: "_blank", rel: "noopener noreferrer" }, label);

// 1: [label](url)  2: **bold**  3: *italic*  4: a bare http(s) URL (without trailing punctuation).
const INLINE =
  /\[([^\]\n]{1,500})\]\(([^()\s]{1,2048})\)|\*\*([^*\n]+?)\*\*|\*([^*\s](?:[^*\n]*?[^*\s])?)\*|(https?:\/\/[^\s<>"'()[\]]*[^\s<>"'()[\].,;:!?])/g;

function inline(text: string, depth = 0): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    last = at + m[0].length;
    const [, label, url, bold, italic, bare] = m;
    if (label !== undefined) {
      const href = safeUrl(url);
      // An unsafe scheme keeps its label as plain text: never a link.
      out.push(href ? link(href, inline(label, depth + 1)) : label);
    } else if (bold !== undefined) {
      out.push(h("strong", null, depth < 3 ? inline(bold, depth + 1) : bold));
    } else if (italic !== undefined) {
      out.push(h("em", null, depth < 3 ? inline(italic, depth + 1) : italic));
    } else if (bare !== undefined) {
      const href = safeUrl(bare, ["http:", "https:"]);
      out.push(href ? link(href, bare) : bare);
    }
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Message text as vnodes: inline Markdown per line, lines separated by `<br>`. */
export function markdown(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  text.split("\n").forEach((line, i) => {
    if (i > 0) out.push(h("br", null));
    out.push(...inline(line));
  });
  return out;
}
