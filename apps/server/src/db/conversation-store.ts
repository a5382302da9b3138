import type { Conversation, ConversationListQuery, ConversationState, Message } from "@hugo/protocol";
import type { Database as SQLiteDatabase } from "better-sqlite3";
import { type Kysely, sql } from "kysely";
import type {
  ConversationChange,
  ConversationEvent,
  ConversationFilter,
  ConversationStore,
  LogEntry,
  NewMessage,
  StateTransition,
} from "../core/ports.ts";
import {
  eventRow,
  fingerprintConflict,
  logBatch,
  logEvent,
  messageCounters,
  messageEvent,
  messageEventName,
  messageEventRow,
  messageRow,
  stateChangeEvent,
} from "./message-rows.ts";
import { fromConversation, toConversation, toEvent, toMessage } from "./rows.ts";
import type { ConversationsTable, DB, MessagesTable } from "./schema.ts";
import { isUniqueViolation } from "./sql-errors.ts";
import { isPostgres, SqlStore } from "./sql-store.ts";
import { appendLogSqlite, appendMessageSqlite } from "./sqlite-message-writer.ts";

/** Runs `fn` in a transaction, joining the caller's when there is one. */
export function inTransaction<T>(db: Kysely<DB>, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/**
 * Appends one event to the website's log. Must run inside the transaction that made the change:
 * bumping `websites.last_seq` takes the website row lock, so on PostgreSQL events commit in
 * sequence order and a reader following `website_seq` never skips one that commits late.
 */
export async function appendEvent(
  trx: Kysely<DB>,
  websiteId: string,
  session: { id: string; seq: number } | null,
  name: string,
  data: unknown,
  now: number,
): Promise<ConversationEvent> {
  const event: ConversationEvent = {
    website_id: websiteId,
    website_seq: 0,
    session_id: session?.id ?? null,
    seq: session?.seq ?? null,
    name,
    data,
    created_at: now,
  };
  if (isPostgres(trx)) {
    // One round trip: the website's lock is held until commit, so every statement saved under it counts.
    const row = eventRow(event);
    const { rows } = await sql<{ website_seq: string | number }>`
      with w as (update websites set last_seq = last_seq + 1 where id = ${websiteId} returning last_seq)
      insert into events (website_id, website_seq, session_id, seq, name, data, created_at, is_message)
      select ${row.website_id}, w.last_seq, ${row.session_id}, ${row.seq}, ${row.name}, ${row.data},
        ${row.created_at}, ${row.is_message}
      from w
      returning website_seq`.execute(trx);
    if (!rows[0]) throw new Error(`website ${websiteId} not found`);
    return { ...event, website_seq: Number(rows[0].website_seq) };
  }
  const website = await trx
    .updateTable("websites")
    .set((eb) => ({ last_seq: eb("last_seq", "+", 1) }))
    .where("id", "=", websiteId)
    .returning("last_seq")
    .executeTakeFirstOrThrow();
  event.website_seq = website.last_seq;
  await trx.insertInto("events").values(eventRow(event)).execute();
  return event;
}

/**
 * Log entries — messages that change no state, and plain events — on PostgreSQL, in one statement:
 * the conversation's counters, the website's sequence (lock order: conversation row, then website
 * row — the CTE `w` reads `c` first), the message rows and every entry's event (numbering and
 * timestamps: see `logBatch`). With `unlessState`, writes nothing (undefined) when the conversation
 * is in that state — the caller then takes the path that also changes the state.
 */
async function appendLogPostgres(
  db: Kysely<DB>,
  websiteId: string,
  sessionId: string,
  entries: LogEntry[],
  unlessState?: ConversationState,
): Promise<{ messages: Message[]; events: ConversationEvent[] } | undefined> {
  const b = logBatch(entries);
  const rows = entries.map((e) =>
    "message" in e ? messageRow(websiteId, sessionId, 0, 0, e.message) : undefined,
  );
  const column = <K extends keyof MessagesTable>(key: K) => rows.map((r) => r?.[key] ?? null);
  const names = entries.map((e, i) => ("message" in e ? messageEventName(rows[i]!.sender) : e.event));
  const data = entries.map((e) => ("message" in e ? "null" : JSON.stringify(e.data)));
  const isMessage = rows.map((r) => (r ? 1 : 0));
  type Stored = { seq: number; website_seq: number; timestamp: number };
  let stored: Stored[];
  try {
    ({ rows: stored } = await sql<Stored>`
      with i as (
        select * from unnest(${column("fingerprint")}::bigint[], ${column("type")}::text[],
          ${column("sender")}::text[], ${column("origin")}::text[], ${column("content")}::text[],
          ${column("user")}::text[], ${column("automated")}::int[], ${column("stealth")}::int[],
          ${b.stamps}::bigint[], ${names}::text[], ${data}::text[], ${isMessage}::int[])
          with ordinality as i(fingerprint, type, sender, origin, content, "user", automated, stealth, stamp,
            name, data, is_message, ord)
      ),
      c as (
        update conversations set
          last_seq = last_seq + ${b.n},
          updated_at = greatest(${b.lastStamp}::bigint, updated_at + ${b.n}),
          last_message = ${b.lastExcerpt === undefined ? sql`last_message` : sql`${b.lastExcerpt}`},
          unread_operator = unread_operator + ${b.unreadOperator},
          unread_visitor = unread_visitor + ${b.unreadVisitor}
        where website_id = ${websiteId} and session_id = ${sessionId}
          ${unlessState === undefined ? sql`` : sql`and state <> ${unlessState}`}
        returning last_seq, updated_at
      ),
      w as (
        update websites set last_seq = last_seq + ${b.n}
        where id = ${websiteId} and exists (select 1 from c)
        returning last_seq
      ),
      n as (
        select i.*, c.last_seq - ${b.n} + i.ord as seq, w.last_seq - ${b.n} + i.ord as website_seq,
          greatest(i.stamp, c.updated_at - ${b.n} + i.ord) as at
        from i, c, w
      ),
      m as (
        insert into messages (session_id, fingerprint, website_id, seq, type, sender, origin, content,
          "user", automated, stealth, read, delivered, edited, timestamp, website_seq)
        select ${sessionId}, fingerprint, ${websiteId}, seq, type, sender, origin, content, "user",
          automated, stealth, 0, 0, 0, at, website_seq
        from n where is_message = 1
      ),
      e as (
        insert into events (website_id, website_seq, session_id, seq, name, data, created_at, is_message)
        select ${websiteId}, website_seq, ${sessionId}, seq, name, data, at, is_message from n
      )
      select seq, website_seq, at as timestamp from n order by ord`.execute(db));
  } catch (error) {
    throw isUniqueViolation(error) ? fingerprintConflict(-1) : error;
  }
  if (stored.length === 0) return undefined;
  const events = stored.map((r, i) => {
    const [seq, websiteSeq, at] = [Number(r.seq), Number(r.website_seq), Number(r.timestamp)];
    const entry = entries[i]!;
    const row = rows[i];
    if (row) return messageEvent({ ...row, seq, website_seq: websiteSeq, timestamp: at });
    return logEvent(websiteId, sessionId, entry as { event: string; data: unknown }, seq, websiteSeq, at);
  });
  return { messages: events.filter((_, i) => rows[i]).map((e) => e.data as Message), events };
}

function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function applyChange(
  trx: Kysely<DB>,
  websiteId: string,
  sessionId: string,
  change: ConversationChange,
  event: { name: string; data: unknown },
): Promise<{ conversation: Conversation; event: ConversationEvent } | undefined> {
  const now = Date.now();
  const set: Partial<ConversationsTable> = { updated_at: now };
  if (change.inbox_id !== undefined) set.inbox_id = change.inbox_id;
  if (change.state !== undefined) set.state = change.state;
  if (change.is_blocked !== undefined) set.is_blocked = change.is_blocked ? 1 : 0;
  if (change.assigned_user_id !== undefined) set.assigned_user_id = change.assigned_user_id;
  if (change.unread_operator !== undefined) set.unread_operator = change.unread_operator;
  if (change.unread_visitor !== undefined) set.unread_visitor = change.unread_visitor;
  const meta = change.meta ?? {};
  for (const key of ["nickname", "email", "phone", "avatar", "ip", "subject", "origin", "locale"] as const) {
    if (meta[key] !== undefined) set[key] = meta[key];
  }
  if (meta.segments !== undefined) set.segments = JSON.stringify(meta.segments);
  if (meta.data !== undefined) set.data = JSON.stringify(meta.data);
  const update = trx
    .updateTable("conversations")
    .set((eb) => ({ ...set, last_seq: eb("last_seq", "+", 1) }))
    .where("website_id", "=", websiteId)
    .where("session_id", "=", sessionId)
    .returningAll();
  if (isPostgres(trx)) {
    // One round trip: the conversation row, then (lock order) the website's sequence and the event.
    const e = eventRow({
      website_id: websiteId,
      website_seq: 0,
      session_id: sessionId,
      seq: 0,
      name: event.name,
      data: event.data,
      created_at: now,
    });
    const { rows } = await sql<ConversationsTable & { website_seq: number }>`
      with c as (${update}),
      w as (update websites set last_seq = last_seq + 1 where id = ${websiteId} and exists (select 1 from c)
        returning last_seq),
      e as (
        insert into events (website_id, website_seq, session_id, seq, name, data, created_at, is_message)
        select ${websiteId}, w.last_seq, ${sessionId}, c.last_seq, ${e.name}, ${e.data}, ${now}, 0
        from c, w
        returning website_seq
      )
      select c.*, e.website_seq from c, e`.execute(trx);
    const found = rows[0];
    if (!found) return undefined;
    const { website_seq, ...row } = found;
    return {
      conversation: toConversation(row),
      event: {
        website_id: websiteId,
        website_seq: Number(website_seq),
        session_id: sessionId,
        seq: row.last_seq,
        name: event.name,
        data: event.data,
        created_at: now,
      },
    };
  }
  const row = await update.executeTakeFirst();
  if (!row) return undefined;
  const conversation = toConversation(row);
  const appended = await appendEvent(
    trx,
    websiteId,
    { id: sessionId, seq: row.last_seq },
    event.name,
    event.data,
    now,
  );
  return { conversation, event: appended };
}

export class SqlConversationStore extends SqlStore implements ConversationStore {
  readonly #sqlite: SQLiteDatabase | undefined;
  /** With the raw SQLite handle, appending a message (the hottest write) uses prepared statements. */
  constructor(db: Kysely<DB>, sqlite?: SQLiteDatabase) {
    super(db);
    this.#sqlite = sqlite;
  }

  create(conversation: Conversation): Promise<ConversationEvent> {
    return inTransaction(this.db, async (trx) => {
      const row = { ...fromConversation(conversation), last_seq: 1 };
      await trx.insertInto("conversations").values(row).execute();
      const session = { id: conversation.session_id, seq: 1 };
      return appendEvent(
        trx,
        conversation.website_id,
        session,
        "session:created",
        toConversation(row),
        conversation.created_at,
      );
    });
  }

  async find(websiteId: string, sessionId: string): Promise<Conversation | undefined> {
    const row = await this.db
      .selectFrom("conversations")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("session_id", "=", sessionId)
      .executeTakeFirst();
    return row && toConversation(row);
  }

  async list(websiteId: string, q: ConversationListQuery, page: number): Promise<Conversation[]> {
    const inbox = q.filter_inbox_id;
    const filter: ConversationFilter = {
      ...(inbox !== undefined ? { inbox: inbox === "main" || inbox === "" ? null : inbox } : {}),
      ...(q.filter_unread === "1" ? { unread: true } : {}),
      ...(q.filter_resolved === "1" ? { states: ["resolved"] } : {}),
      ...(q.filter_not_resolved === "1" ? { notResolved: true } : {}),
      ...(q.filter_assigned ? { assigned: q.filter_assigned } : {}),
      ...(q.filter_unassigned === "1" ? { assigned: null } : {}),
      ...(q.search_query
        ? q.search_type === "segment"
          ? { segment: q.search_query }
          : { text: q.search_query }
        : {}),
    };
    const order = q.order_date_created === "1" ? "created_at" : "updated_at";
    const rows = await this.#filtered(websiteId, filter)
      .selectAll()
      .orderBy(order, "desc")
      .orderBy("session_id", "desc")
      .limit(q.per_page)
      .offset((page - 1) * q.per_page)
      .execute();
    return rows.map(toConversation);
  }

  async listPage(
    websiteId: string,
    filter: ConversationFilter,
    after: { updated_at: number; session_id: string } | undefined,
    limit: number,
  ): Promise<Conversation[]> {
    let query = this.#filtered(websiteId, filter).selectAll();
    // Keyset paging on (updated_at, session_id): every page costs the same, however deep.
    if (after)
      query = query.where((eb) =>
        eb.or([
          eb("updated_at", "<", after.updated_at),
          eb.and([eb("updated_at", "=", after.updated_at), eb("session_id", "<", after.session_id)]),
        ]),
      );
    const rows = await query
      .orderBy("updated_at", "desc")
      .orderBy("session_id", "desc")
      .limit(limit)
      .execute();
    return rows.map(toConversation);
  }

  async countInboxes(
    websiteId: string,
  ): Promise<{ automated: number; main: number; resolved: number; unread: number }> {
    const row = await this.db
      .selectFrom("conversations")
      .select([
        sql<number>`sum(case when state != 'resolved' and inbox_id = 'automated' then 1 else 0 end)`.as(
          "automated",
        ),
        sql<number>`sum(case when state != 'resolved' and inbox_id is null then 1 else 0 end)`.as("main"),
        sql<number>`sum(case when state = 'resolved' then 1 else 0 end)`.as("resolved"),
        sql<number>`sum(case when state != 'resolved' and unread_operator > 0 then 1 else 0 end)`.as(
          "unread",
        ),
      ])
      .where("website_id", "=", websiteId)
      .executeTakeFirstOrThrow();
    return {
      automated: Number(row.automated ?? 0),
      main: Number(row.main ?? 0),
      resolved: Number(row.resolved ?? 0),
      unread: Number(row.unread ?? 0),
    };
  }

  /** A website's conversations narrowed by `f` (the Crisp list and the dashboard's inbox share it). */
  #filtered(websiteId: string, f: ConversationFilter) {
    let query = this.db.selectFrom("conversations").where("website_id", "=", websiteId);
    if (f.inbox !== undefined)
      query = f.inbox === null ? query.where("inbox_id", "is", null) : query.where("inbox_id", "=", f.inbox);
    if (f.states) query = query.where("state", "in", f.states);
    if (f.notResolved) query = query.where("state", "!=", "resolved");
    if (f.unread === true) query = query.where("unread_operator", ">", 0);
    if (f.unread === false) query = query.where("unread_operator", "=", 0);
    if (f.assigned !== undefined)
      query =
        f.assigned === null
          ? query.where("assigned_user_id", "is", null)
          : query.where("assigned_user_id", "=", f.assigned);
    if (f.segment)
      query = query.where(
        sql`lower(segments)`,
        "like",
        sql`${likePattern(JSON.stringify(f.segment))} escape '\\'`,
      );
    if (f.text) {
      const pattern = likePattern(f.text);
      query = query.where((eb) =>
        eb.or(
          (["nickname", "email", "phone", "subject", "last_message"] as const).map((col) =>
            eb(sql`lower(${sql.ref(col)})`, "like", sql`${pattern} escape '\\'`),
          ),
        ),
      );
    }
    return query;
  }

  async appendMessage(
    websiteId: string,
    sessionId: string,
    m: NewMessage,
    options: { transition?: StateTransition | undefined } = {},
  ): Promise<{ message: Message; events: ConversationEvent[] } | undefined> {
    if (this.#sqlite) return appendMessageSqlite(this.db, this.#sqlite, websiteId, sessionId, m, options);
    const { transition } = options;
    // One round trip unless the message changes the state (a resolved conversation the visitor
    // writes in again): then the statement writes nothing and the path below does it all.
    const appended = await appendLogPostgres(
      this.db,
      websiteId,
      sessionId,
      [{ message: m }],
      transition?.from,
    );
    if (appended || !transition)
      return appended && { message: appended.messages[0]!, events: appended.events };
    return inTransaction(this.db, async (trx) => {
      const counters = messageCounters(m);
      const conv = await trx
        .updateTable("conversations")
        .set((eb) => ({
          last_seq: eb("last_seq", "+", 1),
          updated_at: sql<number>`greatest(${m.timestamp}::bigint, updated_at + 1)`,
          ...(counters.setLastMessage ? { last_message: m.excerpt } : {}),
          unread_operator: eb("unread_operator", "+", counters.unreadOperator),
          unread_visitor: eb("unread_visitor", "+", counters.unreadVisitor),
        }))
        .where("website_id", "=", websiteId)
        .where("session_id", "=", sessionId)
        .returning(["last_seq", "state", "updated_at"])
        .executeTakeFirst();
      if (!conv) return undefined;
      m = { ...m, timestamp: Number(conv.updated_at) };
      const next = conv.state === transition.from ? transition.to : undefined;
      const stateSeq =
        next && next !== conv.state
          ? (
              await trx
                .updateTable("conversations")
                .set((eb) => ({ state: next, last_seq: eb("last_seq", "+", 1) }))
                .where("session_id", "=", sessionId)
                .returning("last_seq")
                .executeTakeFirstOrThrow()
            ).last_seq
          : undefined;
      // Lock order is always conversation row, then website row.
      const count = stateSeq === undefined ? 1 : 2;
      const site = await trx
        .updateTable("websites")
        .set((eb) => ({ last_seq: eb("last_seq", "+", count) }))
        .where("id", "=", websiteId)
        .returning("last_seq")
        .executeTakeFirstOrThrow();
      const row = messageRow(websiteId, sessionId, conv.last_seq, site.last_seq - count + 1, m);
      try {
        await trx.insertInto("messages").values(row).execute();
      } catch (error) {
        throw isUniqueViolation(error) ? fingerprintConflict(m.fingerprint) : error;
      }
      const events = [messageEvent(row)];
      await trx.insertInto("events").values(messageEventRow(row)).execute();
      if (stateSeq !== undefined) {
        const stateEvent = stateChangeEvent(
          websiteId,
          site.last_seq,
          sessionId,
          stateSeq,
          next!,
          m.timestamp,
        );
        await trx.insertInto("events").values(eventRow(stateEvent)).execute();
        events.push(stateEvent);
      }
      return { message: events[0]!.data as Message, events };
    });
  }

  appendLog(
    websiteId: string,
    sessionId: string,
    entries: LogEntry[],
  ): Promise<{ messages: Message[]; events: ConversationEvent[] } | undefined> {
    if (entries.length === 0) throw new Error("appendLog needs at least one entry");
    if (this.#sqlite) return appendLogSqlite(this.db, this.#sqlite, { websiteId, sessionId, entries });
    return appendLogPostgres(this.db, websiteId, sessionId, entries);
  }

  async findMessage(websiteId: string, sessionId: string, fingerprint: number): Promise<Message | undefined> {
    const row = await this.db
      .selectFrom("messages")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("session_id", "=", sessionId)
      .where("fingerprint", "=", fingerprint)
      .executeTakeFirst();
    return row && toMessage(row);
  }

  async listMessages(
    websiteId: string,
    sessionId: string,
    w: { before?: number | undefined; after?: number | undefined; limit: number },
  ): Promise<Message[]> {
    let query = this.db
      .selectFrom("messages")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("session_id", "=", sessionId);
    if (w.before !== undefined) query = query.where("timestamp", "<", w.before);
    if (w.after !== undefined) query = query.where("timestamp", ">", w.after);
    // After a point: the oldest first. Otherwise the newest page, returned in chronological order.
    const newestFirst = w.after === undefined;
    const rows = await query
      .orderBy("seq", newestFirst ? "desc" : "asc")
      .limit(w.limit)
      .execute();
    if (newestFirst) rows.reverse();
    return rows.map(toMessage);
  }

  change(
    websiteId: string,
    sessionId: string,
    change: ConversationChange,
    event: { name: string; data: unknown },
  ): Promise<{ conversation: Conversation; event: ConversationEvent } | undefined> {
    return inTransaction(this.db, (trx) => applyChange(trx, websiteId, sessionId, change, event));
  }

  markRead(
    websiteId: string,
    sessionId: string,
    reader: "operator" | "user",
    fingerprints: number[] | undefined,
  ): Promise<{ fingerprints: number[]; event: ConversationEvent } | undefined> {
    return inTransaction(this.db, async (trx) => {
      // The operator reads the visitor's messages, and the visitor the operator's.
      const sender = reader === "operator" ? "user" : "operator";
      let query = trx
        .updateTable("messages")
        .set({ read: 1, delivered: 1 })
        .where("website_id", "=", websiteId)
        .where("session_id", "=", sessionId)
        .where("sender", "=", sender)
        .where("read", "=", 0);
      if (fingerprints) {
        if (fingerprints.length === 0) query = query.where(sql<boolean>`1 = 0`);
        else query = query.where("fingerprint", "in", fingerprints);
      }
      const read = await query.returning("fingerprint").execute();
      const unreadColumn = reader === "operator" ? "unread_operator" : "unread_visitor";
      const remaining = await trx
        .selectFrom("messages")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("website_id", "=", websiteId)
        .where("session_id", "=", sessionId)
        .where("sender", "=", sender)
        .where("read", "=", 0)
        .where("type", "!=", "note")
        .executeTakeFirstOrThrow();
      const fps = read.map((r) => r.fingerprint).sort((a, b) => a - b);
      const changed = await applyChange(
        trx,
        websiteId,
        sessionId,
        { [unreadColumn]: Number(remaining.n) },
        { name: "message:acknowledge:read", data: { reader, fingerprints: fps } },
      );
      return changed && { fingerprints: fps, event: changed.event };
    });
  }

  updateMessage(
    websiteId: string,
    sessionId: string,
    fingerprint: number,
    content: unknown,
  ): Promise<{ message: Message; event: ConversationEvent } | undefined> {
    return inTransaction(this.db, async (trx) => {
      const row = await trx
        .updateTable("messages")
        .set({ content: JSON.stringify(content), edited: 1 })
        .where("website_id", "=", websiteId)
        .where("session_id", "=", sessionId)
        .where("fingerprint", "=", fingerprint)
        .returningAll()
        .executeTakeFirst();
      if (!row) return undefined;
      const message = toMessage(row);
      const changed = await applyChange(
        trx,
        websiteId,
        sessionId,
        {},
        {
          name: "message:updated",
          data: {
            fingerprint,
            type: message.type,
            from: message.from,
            stealth: message.stealth,
            content: message.content,
          },
        },
      );
      return changed && { message, event: changed.event };
    });
  }

  async lastEventData(websiteId: string, sessionId: string, name: string): Promise<unknown> {
    const row = await this.db
      .selectFrom("events")
      .select("data")
      .where("session_id", "=", sessionId)
      .where("is_message", "=", 0)
      .where("website_id", "=", websiteId)
      .where("name", "=", name)
      .orderBy("seq", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? JSON.parse(row.data) : undefined;
  }

  remove(websiteId: string, sessionId: string): Promise<ConversationEvent | undefined> {
    return inTransaction(this.db, async (trx) => {
      // Messages first (the conversation's foreign key would cascade them away unseen): the log keeps
      // its sequence without holes, and the removed messages' events say so instead of holding them.
      const gone = await trx
        .deleteFrom("messages")
        .where("website_id", "=", websiteId)
        .where("session_id", "=", sessionId)
        .returning(["website_seq", "fingerprint"])
        .execute();
      for (const { website_seq, fingerprint } of gone) {
        await trx
          .updateTable("events")
          .set({ name: "message:removed", data: JSON.stringify({ fingerprint }), is_message: 0 })
          .where("website_id", "=", websiteId)
          .where("website_seq", "=", website_seq)
          .execute();
      }
      const removed = await trx
        .deleteFrom("conversations")
        .where("website_id", "=", websiteId)
        .where("session_id", "=", sessionId)
        .returning("last_seq")
        .executeTakeFirst();
      if (!removed) return undefined;
      const session = { id: sessionId, seq: removed.last_seq + 1 };
      return appendEvent(trx, websiteId, session, "session:removed", { session_id: sessionId }, Date.now());
    });
  }

  async readEvents(
    websiteId: string,
    from: { sessionId?: string | undefined; after: number; limit: number },
  ): Promise<ConversationEvent[]> {
    if (from.sessionId) {
      // A conversation's log: its message rows merged with its other events, by seq.
      const [others, messages] = await Promise.all([
        this.db
          .selectFrom("events")
          .select(["website_id", "website_seq", "session_id", "seq", "name", "data", "created_at"])
          .where("session_id", "=", from.sessionId)
          .where("is_message", "=", 0)
          .where("seq", ">", from.after)
          .where("website_id", "=", websiteId)
          .orderBy("seq")
          .limit(from.limit)
          .execute(),
        this.db
          .selectFrom("messages")
          .selectAll()
          .where("session_id", "=", from.sessionId)
          .where("seq", ">", from.after)
          .where("website_id", "=", websiteId)
          .orderBy("seq")
          .limit(from.limit)
          .execute(),
      ]);
      return [...others.map(toEvent), ...messages.map(messageEvent)]
        .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
        .slice(0, from.limit);
    }
    const rows = await this.db
      .selectFrom("events")
      .selectAll()
      .where("website_id", "=", websiteId)
      .where("website_seq", ">", from.after)
      .orderBy("website_seq")
      .limit(from.limit)
      .execute();
    const wanted = rows.filter((r) => r.is_message === 1).map((r) => r.website_seq);
    const messages = wanted.length
      ? await this.db
          .selectFrom("messages")
          .selectAll()
          .where("website_id", "=", websiteId)
          .where("website_seq", "in", wanted)
          .execute()
      : [];
    const bySeq = new Map(messages.map((m) => [m.website_seq, m]));
    return rows.map((r) => {
      const message = r.is_message === 1 ? bySeq.get(r.website_seq) : undefined;
      return message ? messageEvent(message) : toEvent(r);
    });
  }

  async lastSeq(websiteId: string, sessionId?: string): Promise<number | undefined> {
    if (sessionId) {
      const row = await this.db
        .selectFrom("conversations")
        .select("last_seq")
        .where("website_id", "=", websiteId)
        .where("session_id", "=", sessionId)
        .executeTakeFirst();
      return row?.last_seq;
    }
    const row = await this.db
      .selectFrom("websites")
      .select("last_seq")
      .where("id", "=", websiteId)
      .executeTakeFirst();
    return row?.last_seq;
  }
}
