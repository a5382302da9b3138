import { z } from "zod";
import { Fingerprint, OperatorId, SessionId, WebsiteId } from "./ids.ts";
import { Locale } from "./knowledge.ts";

/** An absolute http(s) URL. */
export const HttpUrl = z
  .string()
  .max(2048)
  .refine((v) => /^https?:\/\//i.test(v) && URL.canParse(v), "must be an http(s) URL");
export const Mime = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\w.+-]+\/[\w.+-]+$/, "must be a MIME type");
const ShortText = z.string().min(1).max(10_000);

export const ConversationState = z.enum(["pending", "unresolved", "resolved"]);
export type ConversationState = z.infer<typeof ConversationState>;

export const MessageType = z.enum([
  "text",
  "file",
  "animation",
  "audio",
  "carousel",
  "note",
  "picker",
  "field",
  "event",
]);
export type MessageType = z.infer<typeof MessageType>;

/** `from`: `user` is the visitor, `operator` is a human operator, the bot or the AI agent. */
export const MessageFrom = z.enum(["user", "operator"]);
export type MessageFrom = z.infer<typeof MessageFrom>;

export const MessageOrigin = z
  .string()
  .regex(/^(chat|email|urn:[a-z0-9][a-z0-9:._-]{0,200})$/i, "must be chat, email or urn:…");

export const FileContent = z.strictObject({ name: z.string().min(1).max(255), url: HttpUrl, type: Mime });
export const AnimationContent = z.strictObject({ url: HttpUrl, type: Mime });
export const AudioContent = z.strictObject({
  url: HttpUrl,
  type: Mime,
  duration: z.number().nonnegative().max(86_400),
});
export const PickerChoice = z.strictObject({
  value: z.string().min(1).max(255),
  label: z.string().min(1).max(500),
  selected: z.boolean(),
  icon: z.string().max(32).optional(),
  action: z.strictObject({ type: z.enum(["frame", "link"]), target: HttpUrl }).optional(),
});
export const PickerContent = z.strictObject({
  id: z.string().min(1).max(255),
  text: z.string().min(1).max(10_000),
  choices: z.array(PickerChoice).min(1).max(50),
  required: z.boolean().optional(),
});
export const FieldContent = z.strictObject({
  id: z.string().min(1).max(255),
  text: z.string().min(1).max(10_000),
  explain: z.string().max(1_000),
  value: z.string().max(10_000).optional(),
  required: z.boolean().optional(),
});
export const CarouselContent = z.strictObject({
  text: z.string().max(10_000),
  targets: z
    .array(
      z.strictObject({
        title: z.string().min(1).max(500),
        description: z.string().max(2_000),
        image: HttpUrl.optional(),
        actions: z.array(z.strictObject({ label: z.string().min(1).max(255), url: HttpUrl })).max(10),
      }),
    )
    .min(1)
    .max(20),
});
export const EventContent = z.strictObject({
  namespace: z.string().min(1).max(255),
  text: z.string().max(10_000).optional(),
});

/** The content shape of each message type (contract §3). */
export const MessageContentByType = {
  text: ShortText,
  note: ShortText,
  file: FileContent,
  animation: AnimationContent,
  audio: AudioContent,
  picker: PickerContent,
  field: FieldContent,
  carousel: CarouselContent,
  event: EventContent,
} as const satisfies Record<MessageType, z.ZodType>;

export const MessageUser = z.strictObject({
  type: z.enum(["participant", "website"]).optional(),
  user_id: z.string().max(255).optional(),
  nickname: z.string().max(255).optional(),
  avatar: HttpUrl.optional(),
});
export type MessageUser = z.infer<typeof MessageUser>;

const messageBase = {
  from: MessageFrom,
  origin: MessageOrigin,
  user: MessageUser.optional(),
  fingerprint: Fingerprint.optional(),
  automated: z.boolean().optional(),
  /** Crisp fields Hugo accepts for compatibility: a stealth message is not shown to the visitor. */
  stealth: z.boolean().optional(),
  mentions: z.array(z.string().max(255)).max(100).optional(),
};

/** Body of `POST /v1/website/{website_id}/conversation/{session_id}/message`. */
export const MessageInput = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("text"), content: MessageContentByType.text, ...messageBase }),
  z.strictObject({ type: z.literal("note"), content: MessageContentByType.note, ...messageBase }),
  z.strictObject({ type: z.literal("file"), content: FileContent, ...messageBase }),
  z.strictObject({ type: z.literal("animation"), content: AnimationContent, ...messageBase }),
  z.strictObject({ type: z.literal("audio"), content: AudioContent, ...messageBase }),
  z.strictObject({ type: z.literal("picker"), content: PickerContent, ...messageBase }),
  z.strictObject({ type: z.literal("field"), content: FieldContent, ...messageBase }),
  z.strictObject({ type: z.literal("carousel"), content: CarouselContent, ...messageBase }),
  z.strictObject({ type: z.literal("event"), content: EventContent, ...messageBase }),
]);
export type MessageInput = z.infer<typeof MessageInput>;
export type MessageContent = MessageInput["content"];

export const Message = z.object({
  session_id: SessionId,
  website_id: WebsiteId,
  type: MessageType,
  from: MessageFrom,
  origin: z.string(),
  content: z.unknown(),
  fingerprint: z.number().int(),
  timestamp: z.number().int(),
  user: MessageUser,
  automated: z.boolean(),
  stealth: z.boolean(),
  read: z.boolean(),
  delivered: z.boolean(),
  /** Hugo: the message's place in its conversation's event sequence (for replay). */
  seq: z.number().int(),
  edited: z.boolean(),
});
export type Message = z.infer<typeof Message>;

const Email = z.string().max(320).email("must be an email address");
const Segment = z.string().min(1).max(100);
/** Custom data values, as in Crisp: strings, numbers and booleans. */
export const MetaData = z.record(
  z.string().min(1).max(100),
  z.union([z.string().max(10_000), z.number(), z.boolean()]),
);

export const ConversationMeta = z.object({
  nickname: z.string(),
  email: z.string(),
  phone: z.string(),
  avatar: z.string(),
  ip: z.string(),
  subject: z.string(),
  origin: z.string(),
  segments: z.array(z.string()),
  data: MetaData,
  /** Hugo: the visitor's language (BCP 47), from their browser or the widget's config; "" when unknown. */
  locale: z.string(),
});
export type ConversationMeta = z.infer<typeof ConversationMeta>;

/** Body of `PATCH …/meta`: the given fields change, `data` merges key by key (a `null` value removes a key). */
export const MetaPatch = z.strictObject({
  nickname: z.string().max(255).optional(),
  email: z.union([Email, z.literal("")]).optional(),
  phone: z
    .string()
    .max(64)
    .regex(/^$|^\+?[0-9 ().-]{3,}$/, "must be a phone number")
    .optional(),
  avatar: z.union([HttpUrl, z.literal("")]).optional(),
  ip: z.union([z.ipv4(), z.ipv6(), z.literal("")]).optional(),
  subject: z.string().max(500).optional(),
  origin: z.string().max(255).optional(),
  segments: z.array(Segment).max(100).optional(),
  data: z
    .record(z.string().min(1).max(100), z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]))
    .refine((d) => Object.keys(d).length <= 200, "at most 200 keys")
    .optional(),
  /** The visitor's language; the agent set to `auto` reads and searches in it. "" forgets it. */
  locale: z.union([Locale.max(35), z.literal("")]).optional(),
});
export type MetaPatch = z.infer<typeof MetaPatch>;

export const Conversation = z.object({
  session_id: SessionId,
  website_id: WebsiteId,
  inbox_id: z.string().nullable(),
  state: ConversationState,
  is_blocked: z.boolean(),
  assigned: z.object({ user_id: z.string() }).nullable(),
  meta: ConversationMeta,
  created_at: z.number().int(),
  updated_at: z.number().int(),
  last_message: z.string(),
  unread: z.object({ operator: z.number().int(), visitor: z.number().int() }),
  /** Hugo: the conversation's last event sequence number (subscribe from it to get only new events). */
  last_seq: z.number().int(),
});
export type Conversation = z.infer<typeof Conversation>;

/** Hugo's automated inbox: conversations the AI agent handles. `null` is the main inbox. */
export const AUTOMATED_INBOX = "automated";
export const InboxId = z.union([z.literal(AUTOMATED_INBOX), z.null()]);

export const StatePatch = z.strictObject({ state: ConversationState });
export const InboxPatch = z.strictObject({ inbox_id: InboxId });
export const RoutingPatch = z.strictObject({
  assigned: z.strictObject({ user_id: OperatorId }).nullable(),
  silent: z.boolean().optional(),
});
export const ComposePatch = z.strictObject({
  type: z.enum(["start", "stop"]),
  from: MessageFrom,
  excerpt: z.string().max(500).optional(),
  stealth: z.boolean().optional(),
  automated: z.boolean().optional(),
});
export const ReadPatch = z.strictObject({
  from: MessageFrom,
  origin: MessageOrigin,
  fingerprints: z.array(z.number().int().positive()).max(1000).optional(),
});

export const ConversationListQuery = z.strictObject({
  per_page: z.coerce.number().int().min(1).max(50).default(20),
  filter_inbox_id: z.string().max(100).optional(),
  filter_unread: z.enum(["0", "1"]).optional(),
  filter_resolved: z.enum(["0", "1"]).optional(),
  filter_not_resolved: z.enum(["0", "1"]).optional(),
  filter_assigned: z.string().max(100).optional(),
  filter_unassigned: z.enum(["0", "1"]).optional(),
  search_query: z.string().max(500).optional(),
  search_type: z.enum(["text", "segment"]).optional(),
  order_date_created: z.enum(["0", "1"]).optional(),
  order_date_updated: z.enum(["0", "1"]).optional(),
});
export type ConversationListQuery = z.infer<typeof ConversationListQuery>;

export const MessagesQuery = z.strictObject({
  timestamp_before: z.coerce.number().int().positive().optional(),
  timestamp_after: z.coerce.number().int().positive().optional(),
});
