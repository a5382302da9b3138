import type { Message, ServerFrame } from "@hugo/protocol";
import type { RunningHugo } from "./hugo.ts";
import { Client } from "./ws-client.ts";

type Json = Record<string, unknown>;

/**
 * A website of a test's own on a running Hugo (so the demo's knowledge does not answer for it),
 * with an API token, an operator socket, and the calls agent tests make over real HTTP.
 */
export async function agentSite(server: RunningHugo, name: string) {
  const website = await server.hugo.services.websites.create({ name, domain: "agent.example" });
  const own = {
    websiteId: website.id,
    token: (await server.hugo.services.tokens.create(website.id, { name: "tests" })).token,
  };
  const ws = await Client.connect(server.url, { bearer: own.token });
  const api = async (method: string, path: string, body?: unknown, token?: string) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token ?? own.token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    // biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field
    return { status: res.status, body: (await res.json()) as { error: boolean; reason: string; data: any } };
  };
  const site = () => `/v1/website/${own.websiteId}`;
  const conversation = async () =>
    (await api("POST", `${site()}/conversation`, {})).body.data.session_id as string;
  const visitorSays = (sessionId: string, text: string) =>
    api("POST", `${site()}/conversation/${sessionId}/message`, {
      type: "text",
      from: "user",
      origin: "chat",
      content: text,
    });
  /** The agent's next message in the conversation, as the operator socket receives it. */
  const agentMessage = (sessionId: string, from = 0) =>
    ws.next<Extract<ServerFrame, { type: "event" }>>(
      (f) =>
        f.type === "event" &&
        f.name === "message:received" &&
        (f.data as Message).session_id === sessionId &&
        (f.data as Message).user?.user_id === "hugo:agent",
      from,
    );
  /** Polls `read` until it gives a value (waitFor checks synchronously). */
  const poll = async <T>(what: string, read: () => Promise<T | undefined>): Promise<T> => {
    const until = Date.now() + 20_000;
    for (;;) {
      const value = await read();
      if (value !== undefined) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  const finished = (turn: Json | undefined) => (turn && turn.status !== "queued" ? turn : undefined);
  return {
    own,
    ws,
    api,
    site,
    conversation,
    visitorSays,
    agentMessage,
    poll,
    /** The turn once it has left `queued`. */
    turnDone: (turnId: string, token?: string): Promise<Json> =>
      poll(`turn ${turnId}`, async () =>
        finished((await api("GET", `/api/agent/turns/${turnId}`, undefined, token)).body.data),
      ),
    /** The conversation's newest turn once it has left `queued`. */
    lastTurnDone: (sessionId: string, token?: string): Promise<Json> =>
      poll(`a turn in ${sessionId}`, async () =>
        finished(
          (await api("GET", `/api/agent/turns?session_id=${sessionId}`, undefined, token)).body.data[0],
        ),
      ),
    /** A conversation of the automated inbox, with the test's socket subscribed to it. */
    automatedConversation: async (): Promise<string> => {
      const sessionId = await conversation();
      await api("PATCH", `${site()}/conversation/${sessionId}/inbox`, { inbox_id: "automated" });
      await ws.subscribe(sessionId, 0);
      return sessionId;
    },
    messages: async (sessionId: string) =>
      (await api("GET", `${site()}/conversation/${sessionId}/messages`)).body.data as Message[],
  };
}

export type AgentSite = Awaited<ReturnType<typeof agentSite>>;
