import { z } from "zod";
import { AnimationContent, AudioContent, FileContent, MetaPatch } from "./conversation.ts";
import { Fingerprint, SessionId, SourceId } from "./ids.ts";
import { Locale } from "./knowledge.ts";
import { Variables } from "./workflow.ts";

/**
 * The visitor API the widget calls from the customer's page: public, keyed by website id, no secret.
 * Every call but session creation carries the visitor credential (`<website_id>.<session_id>.<hex>`,
 * see VISITOR_TOKEN_RE) in this header; it reaches its own conversation only.
 */
export const VISITOR_HEADER = "x-hugo-visitor";

/** `POST /api/widget/{website_id}/session`: create a visitor session, or resume one. */
export const WidgetSessionCreate = z.strictObject({
  /** The credential the widget stored; when it is valid for this website, its conversation is kept. */
  token: z.string().max(512).optional(),
  /** `CRISP_TOKEN_ID`: the website's own user id; the same id gets the same conversation on any device. */
  token_id: z.string().trim().min(1).max(255).optional(),
  /** The page the widget loaded on (recorded as the conversation's origin on creation). */
  page_url: z.string().max(2048).optional(),
  /**
   * The visitor's language: `CRISP_RUNTIME_CONFIG.locale`, else the browser's (`navigator.language`).
   * Stored on a new conversation (`meta.locale`), or on a resumed one that has none; the agent set
   * to `locale: auto` analyses and searches the visitor's questions in it.
   */
  locale: Locale.max(35).optional(),
});
export type WidgetSessionCreate = z.infer<typeof WidgetSessionCreate>;

export const WidgetSession = z.object({
  website_id: z.string(),
  session_id: SessionId,
  /** The visitor credential: send it as `X-Hugo-Visitor` and in the WebSocket `auth` frame. */
  token: z.string(),
  /** True when an existing conversation was resumed (stored credential or token_id). */
  resumed: z.boolean(),
});
export type WidgetSession = z.infer<typeof WidgetSession>;

/**
 * `POST /api/widget/{website_id}/message`: a visitor message (`do message:send [type, content]`).
 * `fingerprint` is chosen by the widget so that a retry after a lost answer is not sent twice.
 */
export const WidgetMessageSend = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("text"),
    content: z.string().trim().min(1).max(10_000),
    fingerprint: Fingerprint.optional(),
  }),
  z.strictObject({ type: z.literal("file"), content: FileContent, fingerprint: Fingerprint.optional() }),
  z.strictObject({
    type: z.literal("animation"),
    content: AnimationContent,
    fingerprint: Fingerprint.optional(),
  }),
  z.strictObject({ type: z.literal("audio"), content: AudioContent, fingerprint: Fingerprint.optional() }),
]);
export type WidgetMessageSend = z.infer<typeof WidgetMessageSend>;

export const WidgetMessageSent = z.object({ fingerprint: z.number().int(), timestamp: z.number().int() });
export type WidgetMessageSent = z.infer<typeof WidgetMessageSent>;

/** One `set session:event` entry: `[name, data?, color?]` becomes `{name, data, color}`. */
export const WidgetSessionEvent = z.strictObject({
  name: z.string().trim().min(1).max(100),
  data: z.record(z.string().max(100), z.unknown()).optional(),
  color: z.string().max(32).optional(),
});

/** `PATCH /api/widget/{website_id}/visitor`: the `set` rows of the `$crisp` SDK that reach the server. */
export const WidgetVisitorUpdate = z.strictObject({
  email: MetaPatch.shape.email,
  nickname: MetaPatch.shape.nickname,
  phone: MetaPatch.shape.phone,
  avatar: MetaPatch.shape.avatar,
  /** `set session:data`: merged into the conversation's data (null removes a key). */
  data: MetaPatch.shape.data,
  /** `set session:segments [[segments], overwrite?]`: added to the current segments unless `overwrite`. */
  segments: z
    .strictObject({
      segments: z.array(z.string().trim().min(1).max(100)).max(100),
      overwrite: z.boolean().optional(),
    })
    .optional(),
  /** `set session:event`: custom events, recorded in order (workflows may start on them). */
  events: z.array(WidgetSessionEvent).max(20).optional(),
});
export type WidgetVisitorUpdate = z.infer<typeof WidgetVisitorUpdate>;

/** `POST /api/widget/{website_id}/scenario/{workflow_id}/run`: `do bot:scenario:run [id, variables?]`. */
export const WidgetScenarioRun = z.strictObject({ variables: Variables.optional() });
export type WidgetScenarioRun = z.infer<typeof WidgetScenarioRun>;

/**
 * `POST /api/widget/{website_id}/message/{fingerprint}/answer`: the visitor answers a picker (the
 * `value` of one of its choices) or fills a field (its value) sent by an operator, the bot or the
 * agent in the visitor's own conversation. Only the selection or the value changes.
 */
export const WidgetAnswer = z.strictObject({ value: z.string().trim().min(1).max(10_000) });
export type WidgetAnswer = z.infer<typeof WidgetAnswer>;

export const WidgetAnswered = z.object({
  fingerprint: z.number().int(),
  type: z.enum(["picker", "field"]),
  /** The message's content after the answer (a picker with its choice `selected`, a field with its `value`). */
  content: z.unknown(),
});
export type WidgetAnswered = z.infer<typeof WidgetAnswered>;

/**
 * `POST /api/widget/{website_id}/file?name=…`: a file the visitor sends (the request's body is the
 * file, its `Content-Type` the file's type), at most WIDGET_UPLOAD_MAX_BYTES. The widget then sends
 * a `file` message with its URL. Served at `path` (`GET`, no credential: the id is unguessable).
 */
export const WidgetUploadQuery = z.strictObject({ name: z.string().trim().min(1).max(255) });
export type WidgetUploadQuery = z.infer<typeof WidgetUploadQuery>;

export const WidgetUploaded = z.object({
  file_id: z.string(),
  /** The name as stored (path separators and control characters removed). */
  name: z.string(),
  /** The type as stored: the request's, when it is a well-formed media type. */
  type: z.string(),
  size: z.number().int(),
  /** `/api/widget/{website_id}/file/{file_id}/{name}`, on this Hugo. */
  path: z.string(),
});
export type WidgetUploaded = z.infer<typeof WidgetUploaded>;

/**
 * `POST /api/widget/{website_id}/read`: read receipts (`do message:read`, or the visitor looking at
 * the open chat). The operator's, bot's and agent's messages — these fingerprints, or all — become
 * `read`; the conversation's `unread.visitor` drops and `message:acknowledge:read` tells operators.
 */
export const WidgetRead = z.strictObject({ fingerprints: z.array(Fingerprint).max(500).optional() });
export type WidgetRead = z.infer<typeof WidgetRead>;

export const WidgetReadDone = z.object({
  /** The messages that became read (none when all were already). */
  fingerprints: z.array(z.number().int()),
});
export type WidgetReadDone = z.infer<typeof WidgetReadDone>;

/**
 * `GET /api/widget/{website_id}/helpdesk/search?q=…&locale=…`: the widget's help-desk search
 * (`do helpdesk:search`, `do helpdesk:query [query]`) over the website's help articles and answers.
 */
export const WidgetHelpdeskQuery = z.strictObject({
  q: z.string().trim().min(1).max(500),
  /** Only sources in this locale (or a regional variant of it); sources without a locale always match. */
  locale: Locale.optional(),
});
export type WidgetHelpdeskQuery = z.infer<typeof WidgetHelpdeskQuery>;

/** The best passage of one source: the source's title, the passage's headings and a text excerpt. */
export const WidgetHelpdeskResult = z.object({
  source_id: SourceId,
  kind: z.enum(["helpdesk", "answer"]),
  /** The article's title, or the answer's question. */
  title: z.string(),
  /** Headings above the passage in its article ("Billing › Refunds"), or "". */
  heading: z.string(),
  /** Plain text, at most 240 characters (cut at a word, with "…"). Never HTML. */
  snippet: z.string(),
  /** The article's public URL, when the source has one. */
  url: z.string().nullable(),
});
export type WidgetHelpdeskResult = z.infer<typeof WidgetHelpdeskResult>;

export const WidgetHelpdeskResults = z.object({
  query: z.string(),
  /** At most 8, best first, one per source. */
  results: z.array(WidgetHelpdeskResult),
});
export type WidgetHelpdeskResults = z.infer<typeof WidgetHelpdeskResults>;
