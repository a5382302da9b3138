import { z } from "zod";
import type { MessageFrom } from "./conversation.ts";
import { SessionId } from "./ids.ts";

/**
 * WebSocket frames of `/api/realtime`. The database is the log: every conversation event has a
 * per-conversation `seq` and a per-website `website_seq`. A client subscribes "after N" and gets
 * the replay, then live events, with no gap and no duplicate.
 */
export const ClientFrame = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("auth"), token: z.string().max(512) }),
  z.strictObject({
    type: z.literal("subscribe"),
    /** A conversation; omit it (operators only) to follow the whole website. */
    session_id: SessionId.optional(),
    /** Replay events with a sequence number greater than this. Omit to receive only new events. */
    after: z.number().int().min(0).optional(),
  }),
  z.strictObject({ type: z.literal("unsubscribe"), session_id: SessionId.optional() }),
  z.strictObject({
    type: z.literal("compose"),
    session_id: SessionId,
    state: z.enum(["start", "stop"]),
    excerpt: z.string().max(500).optional(),
  }),
  z.strictObject({ type: z.literal("ping") }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export interface EventFrame {
  type: "event";
  session_id: string | null;
  /** Per-conversation sequence number. */
  seq: number | null;
  /** Per-website sequence number. */
  website_seq: number;
  name: string;
  data: unknown;
  timestamp: number;
}
export interface ComposeFrame {
  type: "compose";
  session_id: string;
  from: z.infer<typeof MessageFrom>;
  state: "start" | "stop";
  excerpt?: string;
}
export type ServerFrame =
  | EventFrame
  | ComposeFrame
  | { type: "ready"; principal: "operator" | "visitor"; website_id: string; session_id?: string }
  | { type: "subscribed"; session_id: string | null; up_to: number }
  | { type: "error"; reason: string; message: string }
  | { type: "pong" };
