import { z } from "zod";
import { Conversation, ConversationState, InboxId, Message } from "./conversation.ts";
import { OperatorId } from "./ids.ts";

/**
 * The dashboard's inbox under `/api/` (the Crisp-compatible `/v1/` stays as it is): keyset paging
 * that stays fast at any depth, filters by inbox, state, assignee, segment and text, and operator
 * replies written under the signed-in operator's name.
 */

/** `GET /api/conversations`: newest activity first, `cursor` from the previous page. */
export const InboxQuery = z.strictObject({
  /** automated / main: the open conversations of that inbox; resolved: resolved ones of either. */
  inbox: z.enum(["automated", "main", "resolved"]).optional(),
  state: ConversationState.optional(),
  /** An operator's id, or `none` for unassigned conversations. */
  assigned: z.union([OperatorId, z.literal("none")]).optional(),
  segment: z.string().min(1).max(100).optional(),
  /** Words in the visitor's name, email, phone, subject or last message. */
  q: z.string().trim().min(1).max(200).optional(),
  unread: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, "must be the next_cursor of a previous page")
    .optional(),
});
export type InboxQuery = z.infer<typeof InboxQuery>;

export const InboxPage = z.object({
  conversations: z.array(Conversation),
  /** Pass it as `cursor` for the next page; null on the last one. */
  next_cursor: z.string().nullable(),
});
export type InboxPage = z.infer<typeof InboxPage>;

/** `GET /api/conversations/counts`: the inbox's badges. */
export const InboxCounts = z.object({
  automated: z.number().int(),
  main: z.number().int(),
  resolved: z.number().int(),
  /** Open conversations with messages no operator has read. */
  unread: z.number().int(),
});
export type InboxCounts = z.infer<typeof InboxCounts>;

/** `GET /api/conversations/{session_id}/messages`: the newest `limit` before `before`, oldest first. */
export const InboxMessagesQuery = z.strictObject({
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

/** `POST /api/conversations/{session_id}/messages`: a reply the visitor sees, or a private note. */
export const OperatorReply = z.strictObject({
  type: z.enum(["text", "note"]),
  content: z.string().trim().min(1).max(10_000),
});
export type OperatorReply = z.infer<typeof OperatorReply>;

/** `PATCH /api/conversations/{session_id}`: state, inbox and assignee, each optional. */
export const ConversationUpdate = z
  .strictObject({
    state: ConversationState.optional(),
    inbox_id: InboxId.optional(),
    assigned_user_id: OperatorId.nullable().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, {
    message: "name at least one of state, inbox_id, assigned_user_id",
  });
export type ConversationUpdate = z.infer<typeof ConversationUpdate>;

export const InboxMessages = z.array(Message);
