/**
 * AI agent answer turns as a visitor lives them, shared by the knowledge phase (offline answerer) and
 * the llm phase (an LLM provider): fresh conversations, each with a socket subscribed beforehand; in
 * each, one after another, a visitor question, then `POST /api/agent/trigger/`, timed from the
 * trigger written to what the socket shows of the agent's message. Also the keep-alive HTTP client
 * both use.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";
import { createConversations, type RunningHugo, realtimeUrl } from "./hugo.ts";
import { sleep } from "./stats.ts";
import { openSubscribers } from "./subscribers.ts";

export const AGENT_USER_ID = "hugo:agent";

// ─── HTTP ──────────────────────────────────────────────────────────────────────────────────────────

export type Json = { data?: unknown; reason?: unknown } | undefined;

/**
 * Keep-alive node:http requests timed from the request written to the JSON body parsed (fetch adds
 * its own stream machinery to every request, which would blur sub-millisecond searches).
 */
export class Api {
  readonly #agent: http.Agent;
  readonly #hugo: RunningHugo;

  constructor(hugo: RunningHugo, sockets: number) {
    this.#hugo = hugo;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  request(method: string, path: string, body?: string): Promise<{ status: number; json: Json; ms: number }> {
    const { host, port } = this.#hugo.proc.target;
    return new Promise((resolve, reject) => {
      let started = 0;
      const req = http.request(
        {
          host,
          port,
          method,
          path,
          agent: this.#agent,
          headers: {
            authorization: `Bearer ${this.#hugo.seed.token}`,
            ...(body === undefined
              ? {}
              : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            let json: Json;
            try {
              json = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Json;
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, json, ms: performance.now() - started });
          });
        },
      );
      req.on("error", reject);
      started = performance.now();
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export const failure = (what: string, r: { status: number; json: Json }) =>
  new Error(`${what} answered ${r.status}: ${JSON.stringify(r.json)?.slice(0, 500)}`);

// ─── Turns ─────────────────────────────────────────────────────────────────────────────────────────

/** What the subscribed socket showed of the agent's message in one conversation. */
export interface AgentMessageSeen {
  /** The agent's `message:received` frames (more than one: a message sent twice). */
  count: number;
  /** When the first one arrived (performance.now()), and its content and fingerprint. */
  at: number;
  content: unknown;
  fingerprint: number | undefined;
  /** `message:updated` frames of that message (it is rewritten in place as an LLM writes), in order. */
  updates: { at: number; content: unknown }[];
}

/** `GET /api/agent/turns/{id}`, the fields the phases read. */
export interface TurnView {
  status?: string;
  trace?: { latency_ms?: number; provider?: string } | null;
  created_at?: number;
  finished_at?: number | null;
}

/** One triggered turn. */
export interface AgentTurn {
  session: string;
  /** False for the unmeasured warm-up turns. */
  measured: boolean;
  /** performance.now() just before the trigger request was written. */
  started: number;
  /** The trigger's own round trip (202), ms; its turn id, undefined when the trigger failed. */
  triggerMs: number;
  turnId: string | undefined;
  /** Whether the socket showed what `until` waits for within the timeout. */
  arrived: boolean;
  /** The turn as the API reports it once the wait is over (outside the measured window). */
  turn: TurnView | undefined;
}

export interface AgentTurnsRun {
  turns: AgentTurn[];
  /** Per conversation, what the socket showed; read after every turn is done (late frames included). */
  seen: Map<string, AgentMessageSeen>;
  sessions: string[];
}

/**
 * `warmup + turns` turns, one after another, each in a fresh conversation (main inbox, so the
 * visitor's message alone brings no agent answer) with its own subscribed socket: the visitor's
 * `question(i)`, then the trigger; the next turn starts once the socket shows `until` (default: the
 * agent's message arrived) and — with `finished` — the turn reads as finished, or after `timeoutMs`.
 */
export async function runAgentTurns(
  hugo: RunningHugo,
  options: {
    turns: number;
    warmup: number;
    question: (i: number) => string;
    until?: (seen: AgentMessageSeen) => boolean;
    finished?: boolean;
    timeoutMs: number;
  },
): Promise<AgentTurnsRun> {
  const until = options.until ?? ((seen: AgentMessageSeen) => seen.count > 0);
  const total = options.turns + options.warmup;
  // The demo conversation (createConversations' first) already has messages: fresh ones only.
  const sessions = (await createConversations(hugo, total + 1)).slice(1);
  const seen = new Map<string, AgentMessageSeen>();
  let waiting: { session: string; resolve: () => void } | undefined;
  const subs = await openSubscribers({
    url: realtimeUrl(hugo.proc),
    headers: { authorization: `Bearer ${hugo.seed.token}` },
    sessions,
    count: sessions.length,
    concurrency: 10,
    onFrame(frame) {
      if (frame.type !== "event") return;
      const now = performance.now();
      let entry: AgentMessageSeen | undefined;
      if (frame.name === "message:received") {
        const data = frame.data as
          | { session_id?: string; user?: { user_id?: string }; content?: unknown; fingerprint?: number }
          | undefined;
        if (data?.user?.user_id !== AGENT_USER_ID || !data.session_id) return;
        entry = seen.get(data.session_id);
        if (!entry) {
          entry = { count: 0, at: now, content: data.content, fingerprint: data.fingerprint, updates: [] };
          seen.set(data.session_id, entry);
        }
        entry.count++;
      } else if (frame.name === "message:updated") {
        entry = frame.session_id === undefined ? undefined : seen.get(frame.session_id);
        const data = frame.data as { fingerprint?: number; content?: unknown } | undefined;
        if (!entry || !data || data.fingerprint !== entry.fingerprint) return;
        entry.updates.push({ at: now, content: data.content });
      } else return;
      if (waiting && waiting.session === frame.session_id && until(entry)) waiting.resolve();
    },
  });
  if (subs.ok !== sessions.length)
    throw new Error(
      `${subs.failed} of ${sessions.length} turn subscribers did not connect: ${subs.firstError}`,
    );
  const api = new Api(hugo, 1);
  const turns: AgentTurn[] = [];
  try {
    for (const [i, session] of sessions.entries()) {
      const visitor = await api.request(
        "POST",
        `/v1/website/${hugo.seed.websiteId}/conversation/${session}/message`,
        JSON.stringify({ type: "text", from: "user", origin: "chat", content: options.question(i) }),
      );
      if (visitor.status >= 300) throw failure("the visitor's message", visitor);
      let timer: NodeJS.Timeout | undefined;
      const arrived = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), options.timeoutMs);
        waiting = { session, resolve: () => resolve(true) };
      });
      const started = performance.now();
      const r = await api.request("POST", "/api/agent/trigger/", JSON.stringify({ session_id: session }));
      const turnId = (r.json?.data as { turn_id?: string } | undefined)?.turn_id;
      const record: AgentTurn = {
        session,
        measured: i >= options.warmup,
        started,
        triggerMs: r.ms,
        turnId: r.status === 202 ? turnId : undefined,
        arrived: false,
        turn: undefined,
      };
      turns.push(record);
      if (!record.turnId) {
        clearTimeout(timer);
        waiting = undefined;
        continue;
      }
      record.arrived = await arrived;
      clearTimeout(timer);
      waiting = undefined;
      // Outside the measured window: the turn's outcome and Hugo's own timing of it.
      record.turn = await readTurn(api, record.turnId, options.finished ? options.timeoutMs : 0);
    }
    // Let late duplicates (and a last rewrite) show.
    await sleep(200);
  } finally {
    api.close();
    await subs.close();
  }
  return { turns, seen, sessions };
}

/** The turn; polled until it is no longer queued for up to `waitMs`. */
async function readTurn(api: Api, turnId: string, waitMs: number): Promise<TurnView | undefined> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const r = await api.request("GET", `/api/agent/turns/${turnId}`);
    const turn = r.json?.data as TurnView | undefined;
    if (turn?.status !== "queued" || performance.now() >= deadline) return turn;
    await sleep(5);
  }
}

/**
 * What every phase counts of a run: triggers refused, the measured turns (warm-up left out) with
 * their trigger and trace latencies, and the agent messages delivered once, or more than once.
 */
export function tallyTurns(run: AgentTurnsRun) {
  const measured: AgentTurn[] = [];
  const triggerMs: number[] = [];
  const traceMs: number[] = [];
  let triggerErrors = 0;
  for (const t of run.turns) {
    if (!t.turnId) {
      triggerErrors++;
      continue;
    }
    if (!t.measured) continue;
    measured.push(t);
    triggerMs.push(t.triggerMs);
    if (typeof t.turn?.trace?.latency_ms === "number") traceMs.push(t.turn.trace.latency_ms);
  }
  let delivered = 0;
  let duplicates = 0;
  for (const session of run.sessions) {
    const count = run.seen.get(session)?.count ?? 0;
    if (count > 0) delivered++;
    duplicates += Math.max(0, count - 1);
  }
  const triggered = run.turns.length;
  return {
    measured,
    triggerMs,
    traceMs,
    triggered,
    triggerErrors,
    delivered,
    duplicates,
    missing: triggered - triggerErrors - delivered,
  };
}
