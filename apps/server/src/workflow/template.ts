import type { Conversation, VariableValue } from "@hugo/protocol";

/** How an inserted value is escaped: as is, as the inside of a JSON string literal, or for a URL. */
export type TemplateEscape = "none" | "json" | "url";

const PATH = "[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z0-9_-]+)*";
const placeholder = () => new RegExp(`\\{\\{[ \\t]*(${PATH})[ \\t]*\\}\\}`, "g");

const show = (value: VariableValue): string =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : value ? "true" : "false";

const ESCAPES: Record<TemplateEscape, (text: string) => string> = {
  none: (text) => text,
  json: (text) => JSON.stringify(text).slice(1, -1),
  url: (text) => encodeURIComponent(text),
};

/**
 * Replaces each `{{ path }}` with its value, in one pass (an inserted value is never expanded
 * again). Missing values render empty; text that is not a placeholder stays as it is.
 */
export function renderTemplate(
  template: string,
  lookup: (path: string) => VariableValue | undefined,
  escaping: TemplateEscape = "none",
): string {
  if (!template.includes("{{")) return template;
  const esc = ESCAPES[escaping];
  return template.replace(placeholder(), (_, path: string) => {
    const value = lookup(path);
    return value === undefined ? "" : esc(show(value));
  });
}

/** The paths a template refers to, each once, in order of appearance. */
export function templateVariables(template: string): string[] {
  const paths = new Set<string>();
  for (const match of template.matchAll(placeholder())) paths.add(match[1]!);
  return [...paths];
}

const VISITOR_FIELDS = new Set(["nickname", "email", "phone", "avatar", "ip", "subject", "origin"]);

/**
 * Resolves template paths: a run variable first, then `visitor.*`, `segments`, `data.<key>` and
 * the conversation's `session_id`, `website_id`, `state` and `inbox`.
 */
export function templateLookup(
  variables: Record<string, VariableValue>,
  conversation: Conversation,
): (path: string) => VariableValue | undefined {
  const meta = conversation.meta;
  return (path) => {
    // hasOwn: `{{ constructor }}` must not reach Object.prototype.
    if (Object.hasOwn(variables, path)) return variables[path];
    if (path.startsWith("visitor.")) {
      const field = path.slice("visitor.".length);
      if (field === "segments") return segments(meta.segments);
      if (!VISITOR_FIELDS.has(field)) return undefined;
      const value = meta[field as "nickname"];
      return typeof value === "string" && value !== "" ? value : undefined;
    }
    if (path.startsWith("data.")) {
      const key = path.slice("data.".length);
      if (!meta.data || !Object.hasOwn(meta.data, key)) return undefined;
      const value = meta.data[key];
      return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
        ? value
        : undefined;
    }
    switch (path) {
      case "segments":
        return segments(meta.segments);
      case "session_id":
        return conversation.session_id;
      case "website_id":
        return conversation.website_id;
      case "state":
        return conversation.state;
      case "inbox":
        return conversation.inbox_id ?? "main";
      default:
        return undefined;
    }
  };
}

const segments = (list: readonly string[] | undefined): string | undefined =>
  list && list.length > 0 ? list.join(", ") : undefined;
