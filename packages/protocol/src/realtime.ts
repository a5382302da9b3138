import { z } from "zod";
import type { MessageFrom } from "./conversation.ts";
import { SessionId } from "./ids.ts";

/**
 * WebSocket frames of `GET /api/realtime` (JSON text frames, one object each).
 *
 * The database is the log: every conversation event has a per-conversation `seq` and a per-website
 * `website_seq`. A client subscribes "after N" and gets the replay, then live events, with no gap
 * and no duplicate; after a reconnect it subscribes again with the last sequence number it saw.
 *
 * 1. Authenticate, either with `Authorization: Bearer hugo_<id>_<key>` on the upgrade request
 *    (operators; the token needs `conversations:read`), or with a first frame
 *    `{ "type": "auth", "token": … }` within 5 seconds (browsers cannot set headers). The token is
 *    an API token (`hugo_<id>_<key>`, operator: the whole website) or a visitor credential
 *    (`<website_id>.<session_id>.<hex>`, see {@link VISITOR_TOKEN_RE}: one conversation). The
 *    server answers `ready`.
 * 2. `subscribe` to a conversation (`session_id`) or, operators only, to the whole website (no
 *    `session_id`; `after` and `up_to` are then `website_seq` values). The server replays the
 *    events after `after`, sends `subscribed` with `up_to` (the position reached), then live
 *    events. Subscribing again to the same target restarts it. At most 50 subscriptions a socket.
 * 3. `compose` sends a typing indicator (visitors: their conversation, as `user`; operators: any
 *    conversation of the website, as `operator`, with the `conversations:write` scope).
 *
 * Visitors never receive notes, stealth messages, operator-only events or other conversations;
 * their `seq` values may therefore skip numbers, and their frames carry `website_seq: null`.
 * Errors are `{ type: "error", reason, message }` with reasons from the error catalog; the socket
 * stays open unless authentication failed (close code 4401).
 */
export const ClientFrame = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("auth"), token: z.string().max(512) }),
  z.strictObject({
    type: z.literal("subscribe"),
    /** A conversation; omit it to follow the whole website (operators) or your conversation (visitors). */
    session_id: SessionId.optional(),
    /** Replay events with a sequence number greater than this. Omit to receive only new events. */
    after: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  }),
  z.strictObject({ type: z.literal("unsubscribe"), session_id: SessionId.optional() }),
  z.strictObject({
    type: z.literal("compose"),
    session_id: SessionId,
    state: z.enum(["start", "stop"]),
    excerpt: z.string().max(500).optional(),
  }),
  /** Application-level keepalive for clients that cannot see WebSocket pings (browsers). */
  z.strictObject({ type: z.literal("ping") }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** A visitor credential: `<website_id>.<session_id>.<hmac-sha256 hex>`, minted by the server. */
export const VISITOR_TOKEN_RE =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(session_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([0-9a-f]{64})$/;

export interface EventFrame {
  type: "event";
  /** The subscription this frame belongs to: its `session_id`, or null for the website subscription. */
  subscription: string | null;
  session_id: string | null;
  /** Per-conversation sequence number. */
  seq: number | null;
  /** Per-website sequence number (null for visitors). */
  website_seq: number | null;
  name: string;
  data: unknown;
  timestamp: number;
}
export interface ComposeFrame {
  type: "compose";
  session_id: string;
  from: z.infer<typeof MessageFrom>;
  state: "start" | "stop";
  /** What the visitor is typing; only operators receive it. */
  excerpt?: string;
}
export type ServerFrame =
  | EventFrame
  | ComposeFrame
  | { type: "ready"; principal: "operator" | "visitor"; website_id: string; session_id?: string }
  /** Replay is done: events up to `up_to` were sent; live events follow. */
  | { type: "subscribed"; session_id: string | null; up_to: number }
  | { type: "unsubscribed"; session_id: string | null }
  /** `session_id` names the subscription the error ends, when it is about one. */
  | { type: "error"; reason: string; message: string; session_id?: string | null }
  | { type: "pong" };

/**
 * Close codes the server uses besides the standard ones (1001: the server is shutting down;
 * 1009: a frame larger than 64 KiB). A missed WebSocket pong ends the connection without a close
 * frame (the peer is presumed dead). Every close means: reconnect, then resubscribe with `after`.
 */
export const RealtimeCloseCode = {
  /** Authentication failed, timed out, or the token was revoked. */
  unauthorized: 4401,
  /** The client read too slowly and the server's send buffer filled up. */
  slowConsumer: 4429,
} as const;
