import type { Message } from "@hugo/protocol";
import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";

/** The inbox's cache keys: everything under `["inbox", website]` is dropped on a website switch. */
export const inboxKeys = {
  all: (website: string) => ["inbox", website] as const,
  list: (website: string, filters: object) => ["inbox", website, "list", filters] as const,
  counts: (website: string) => ["inbox", website, "counts"] as const,
  conversation: (website: string, session: string) => ["inbox", website, "conversation", session] as const,
  messages: (website: string, session: string) => ["inbox", website, "messages", session] as const,
};

export type LiveStatus = "connecting" | "live" | "offline";

const MAX_BACKOFF_MS = 15_000;

/** Adds a message to a conversation's cached messages, once (the socket and the reply's answer both bring it). */
export function appendMessage(queryClient: QueryClient, website: string, message: Message): void {
  queryClient.setQueryData<Message[]>(inboxKeys.messages(website, message.session_id), (old) =>
    old === undefined || old.some((m) => m.fingerprint === message.fingerprint) ? old : [...old, message],
  );
}

const isMessage = (data: unknown): data is Message =>
  typeof data === "object" &&
  data !== null &&
  typeof (data as Message).fingerprint === "number" &&
  typeof (data as Message).type === "string" &&
  typeof (data as Message).session_id === "string";

/**
 * Follows the whole website over `/api/realtime?auth=session` (the session cookie signs the socket
 * in) while the inbox is open: a message of a cached conversation is appended, and the lists, the
 * counts and the conversation are refetched (a burst of events costs one refetch). After a lost
 * connection it reconnects with backoff and refetches everything, so nothing missed stays missing.
 */
export function useInboxLive(website: string): LiveStatus {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");

  useEffect(() => {
    let socket: WebSocket | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let flush: ReturnType<typeof setTimeout> | undefined;
    let attempts = 0;
    let stopped = false;
    const touched = new Set<string>();

    const refresh = (session: string | null) => {
      if (session) touched.add(session);
      flush ??= setTimeout(() => {
        flush = undefined;
        void queryClient.invalidateQueries({ queryKey: ["inbox", website, "list"] });
        void queryClient.invalidateQueries({ queryKey: inboxKeys.counts(website) });
        for (const s of touched) {
          void queryClient.invalidateQueries({ queryKey: inboxKeys.conversation(website, s) });
          void queryClient.invalidateQueries({ queryKey: ["inbox", website, "runs", s] });
          void queryClient.invalidateQueries({ queryKey: ["inbox", website, "turns", s] });
        }
        touched.clear();
      }, 150);
    };

    const connect = () => {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      const ws = new WebSocket(`${scheme}://${location.host}/api/realtime?auth=session`);
      socket = ws;
      ws.onmessage = (event) => {
        let frame: { type?: string; name?: string; session_id?: string | null; data?: unknown };
        try {
          frame = JSON.parse(String(event.data));
        } catch {
          return;
        }
        if (frame.type === "ready") ws.send(JSON.stringify({ type: "subscribe" }));
        else if (frame.type === "subscribed") {
          // Back after a gap: whatever happened meanwhile is in the refetched answers.
          if (attempts > 0) void queryClient.invalidateQueries({ queryKey: inboxKeys.all(website) });
          attempts = 0;
          setStatus("live");
        } else if (frame.type === "event") {
          if (frame.name?.startsWith("message:") && isMessage(frame.data))
            appendMessage(queryClient, website, frame.data);
          else if (frame.name?.startsWith("message:") && frame.session_id)
            void queryClient.invalidateQueries({ queryKey: inboxKeys.messages(website, frame.session_id) });
          refresh(frame.session_id ?? null);
        }
      };
      ws.onclose = () => {
        if (stopped) return;
        setStatus("offline");
        const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempts) * (0.75 + Math.random() / 2);
        attempts++;
        retry = setTimeout(connect, delay);
      };
    };

    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(flush);
      socket?.close();
    };
  }, [queryClient, website]);

  return status;
}
