import type { Message, VariableValue } from "@hugo/protocol";
import type { Stores } from "../core/ports.ts";
import { messageMatches, urlMatches } from "./values.ts";

/** A conversation event as the follower hands it to the conversation's lane. */
export interface WorkflowEventInput {
  name: string;
  data: unknown;
  website_seq: number;
  created_at: number;
}

/** Events the follower forwards: visitor input and the changes start blocks listen to. */
export const FOLLOWED_EVENTS = new Set([
  "message:send",
  "message:updated",
  "session:set_state",
  "session:set_page",
  "session:event",
  "session:set_email",
  "session:set_nickname",
  "session:set_phone",
  "session:set_data",
  "session:set_segments",
]);

/** Whether the follower should forward this event (a visitor's message, not the bot's or an operator's). */
export function isFollowed(event: { name: string; data: unknown }): boolean {
  if (!FOLLOWED_EVENTS.has(event.name)) return false;
  if (event.name === "message:send") return (event.data as { from?: string } | null)?.from === "user";
  return true;
}

const scalar = (v: unknown): v is VariableValue =>
  typeof v === "string" || typeof v === "number" || typeof v === "boolean";

function textOf(message: Message): string {
  if (typeof message.content === "string") return message.content;
  const c = message.content as { url?: unknown; text?: unknown } | null;
  return typeof c?.text === "string" ? c.text : typeof c?.url === "string" ? c.url : "";
}

/**
 * Whether a start block fires on an event; returns the run's initial variables when it does
 * (`message`, `page_url`, an event's data…), undefined when it does not.
 */
export async function startMatches(
  kind: string,
  options: unknown,
  event: WorkflowEventInput,
  ctx: { stores: Stores; websiteId: string; sessionId: string },
): Promise<Record<string, VariableValue> | undefined> {
  const data = (event.data ?? {}) as Record<string, unknown>;
  switch (kind) {
    case "start.message":
    case "start.message_matches": {
      if (event.name !== "message:send") return undefined;
      const message = data as unknown as Message;
      const text = textOf(message);
      if (kind === "start.message_matches") {
        const o = options as {
          mode: "contains" | "any_word" | "regex";
          value: string;
          case_sensitive: boolean;
        };
        if (message.type !== "text" || !messageMatches(text, o.mode, o.value, o.case_sensitive))
          return undefined;
      } else if ((options as { first_only: boolean }).first_only) {
        const earlier = await ctx.stores.conversations.listMessages(ctx.websiteId, ctx.sessionId, {
          before: message.timestamp,
          limit: 50,
        });
        if (earlier.some((m) => m.from === "user" && m.fingerprint !== message.fingerprint)) return undefined;
      }
      return { message: text.slice(0, 2000) };
    }
    case "start.answer": {
      if (event.name !== "message:updated") return undefined;
      const content = data.content as {
        id?: string;
        value?: string;
        choices?: { value: string; selected?: boolean }[];
      };
      const value =
        data.type === "picker"
          ? content?.choices?.find((c) => c.selected)?.value
          : data.type === "field"
            ? content?.value
            : undefined;
      if (value === undefined || typeof content?.id !== "string") return undefined;
      const o = options as { id: string; value: string };
      if (o.id && o.id !== content.id) return undefined;
      if (o.value && o.value !== value) return undefined;
      return { answer: value.slice(0, 2000), answer_id: content.id.slice(0, 2000) };
    }
    case "start.state_changed": {
      if (event.name !== "session:set_state") return undefined;
      const o = options as { state: string | null };
      if (o.state !== null && o.state !== data.state) return undefined;
      return { state: String(data.state) };
    }
    case "start.url_changed": {
      if (event.name !== "session:set_page" || typeof data.url !== "string") return undefined;
      const o = options as { mode: "any" | "equals" | "contains" | "starts_with" | "regex"; value: string };
      if (!urlMatches(data.url, o.mode, o.value)) return undefined;
      return { page_url: data.url.slice(0, 2000) };
    }
    case "start.meta_updated": {
      const o = options as { field: string; key: string };
      if (event.name !== `session:set_${o.field}`) return undefined;
      if (o.field === "data" && o.key) {
        const values = data.data as Record<string, unknown> | undefined;
        if (!values || !(o.key in values)) return undefined;
      }
      const value = data[o.field];
      return scalar(value) ? { [o.field]: typeof value === "string" ? value.slice(0, 2000) : value } : {};
    }
    case "start.event": {
      if (event.name !== "session:event" || data.name !== (options as { name: string }).name)
        return undefined;
      const variables: Record<string, VariableValue> = { event_name: String(data.name) };
      const payload = (data.data ?? {}) as Record<string, unknown>;
      for (const [k, v] of Object.entries(payload).slice(0, 40)) {
        if (/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k) && scalar(v)) {
          variables[k] = typeof v === "string" ? v.slice(0, 2000) : v;
        }
      }
      return variables;
    }
    default:
      return undefined;
  }
}
