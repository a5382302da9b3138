import type { ConversationState, Message } from "@hugo/protocol";
import type { Database as SQLiteDatabase, Statement } from "better-sqlite3";
import type { Kysely } from "kysely";
import type { ConversationEvent, LogEntry, NewMessage, StateTransition } from "../core/ports.ts";
import {
  eventRow,
  fingerprintConflict,
  logBatch,
  logEvent,
  messageCounters,
  messageEvent,
  messageEventRow,
  messageRow,
  stateChangeEvent,
} from "./message-rows.ts";
import type { DB } from "./schema.ts";
import { isUniqueViolation } from "./sql-errors.ts";

/**
 * Appending a message is the hottest write. On SQLite it runs as one synchronous better-sqlite3
 * transaction of prepared statements (≈10× fewer microseconds than the same five queries through
 * Kysely). Same rows, same events, same rules as the Kysely implementation; the store contract
 * suite runs this path on SQLite and the Kysely one on PostgreSQL.
 *
 * Safety: better-sqlite3 has one connection, which Kysely guards with a mutex. The raw statements
 * run only while holding that connection (`db.connection()`), or inside the caller's own Kysely
 * transaction, which holds it already (better-sqlite3 nests with a savepoint).
 */
type WriteResult = { message: Message; events: ConversationEvent[] } | undefined;
type ManyResult = { messages: Message[]; events: ConversationEvent[] } | undefined;
interface ManyArgs {
  websiteId: string;
  sessionId: string;
  entries: LogEntry[];
}

interface Statements {
  bumpConversation: Statement;
  setState: Statement;
  insertMessage: Statement;
  bumpWebsite: Statement;
  insertEvent: Statement;
  write: (args: WriteArgs) => WriteResult;
  writeMany: (args: ManyArgs) => ManyResult;
  /** Writes a batch in one transaction; if any item fails, each is retried alone, so one failure spares the others. */
  writeBatch: (items: Pending[]) => void;
  queue: Pending[];
  scheduled: boolean;
}

interface Pending {
  args: WriteArgs;
  result?: WriteResult;
  error?: unknown;
  resolve: (r: WriteResult) => void;
  reject: (e: unknown) => void;
}

interface WriteArgs {
  websiteId: string;
  sessionId: string;
  m: NewMessage;
  transition: StateTransition | undefined;
}

const cache = new WeakMap<SQLiteDatabase, Statements>();

function statements(sqlite: SQLiteDatabase): Statements {
  let s = cache.get(sqlite);
  if (s) return s;
  const bumpConversation = sqlite.prepare(
    `update conversations set last_seq = last_seq + @n, updated_at = max(@stamp, updated_at + @n),
       last_message = case when @set_last = 1 then @excerpt else last_message end,
       unread_operator = unread_operator + @unread_operator, unread_visitor = unread_visitor + @unread_visitor
     where website_id = @website_id and session_id = @session_id returning last_seq, state, updated_at`,
  );
  const setState = sqlite.prepare(
    "update conversations set state = ?, last_seq = last_seq + 1, updated_at = ? where session_id = ? returning last_seq",
  );
  const insertMessage = sqlite.prepare(
    `insert into messages (session_id, fingerprint, website_id, seq, type, sender, origin, content, user,
       automated, stealth, read, delivered, edited, timestamp, website_seq)
     values (@session_id, @fingerprint, @website_id, @seq, @type, @sender, @origin, @content, @user,
       @automated, @stealth, @read, @delivered, @edited, @timestamp, @website_seq)`,
  );
  const bumpWebsite = sqlite.prepare(
    "update websites set last_seq = last_seq + ? where id = ? returning last_seq",
  );
  const insertEvent = sqlite.prepare(
    `insert into events (website_id, website_seq, session_id, seq, name, data, created_at, is_message)
     values (@website_id, @website_seq, @session_id, @seq, @name, @data, @created_at, @is_message)`,
  );
  const writeOne = (a: WriteArgs): WriteResult => {
    const { websiteId, sessionId } = a;
    const c = messageCounters(a.m);
    const conv = bumpConversation.get({
      n: 1,
      stamp: a.m.timestamp,
      set_last: c.setLastMessage ? 1 : 0,
      excerpt: a.m.excerpt,
      unread_operator: c.unreadOperator,
      unread_visitor: c.unreadVisitor,
      website_id: websiteId,
      session_id: sessionId,
    }) as { last_seq: number; state: ConversationState; updated_at: number } | undefined;
    if (!conv) return undefined;
    const m = { ...a.m, timestamp: conv.updated_at };
    const next = a.transition?.from === conv.state ? a.transition.to : undefined;
    const stateSeq =
      next && next !== conv.state
        ? (setState.get(next, m.timestamp, sessionId) as { last_seq: number }).last_seq
        : undefined;
    const count = stateSeq === undefined ? 1 : 2;
    const site = bumpWebsite.get(count, websiteId) as { last_seq: number };
    const row = messageRow(websiteId, sessionId, conv.last_seq, site.last_seq - count + 1, m);
    try {
      insertMessage.run(row);
    } catch (error) {
      throw isUniqueViolation(error) ? fingerprintConflict(m.fingerprint) : error;
    }
    insertEvent.run(messageEventRow(row));
    const events = [messageEvent(row)];
    if (stateSeq !== undefined) {
      const stateEvent = stateChangeEvent(websiteId, site.last_seq, sessionId, stateSeq, next!, m.timestamp);
      insertEvent.run(eventRow(stateEvent));
      events.push(stateEvent);
    }
    return { message: events[0]!.data as Message, events };
  };
  const write = sqlite.transaction(writeOne);
  const writeMany = sqlite.transaction((a: ManyArgs): ManyResult => {
    const { websiteId, sessionId } = a;
    const b = logBatch(a.entries);
    const conv = bumpConversation.get({
      n: b.n,
      stamp: b.lastStamp,
      set_last: b.lastExcerpt === undefined ? 0 : 1,
      excerpt: b.lastExcerpt ?? null,
      unread_operator: b.unreadOperator,
      unread_visitor: b.unreadVisitor,
      website_id: websiteId,
      session_id: sessionId,
    }) as { last_seq: number; updated_at: number } | undefined;
    if (!conv) return undefined;
    const site = bumpWebsite.get(b.n, websiteId) as { last_seq: number };
    const events: ConversationEvent[] = [];
    const messages: Message[] = [];
    a.entries.forEach((entry, i) => {
      const seq = conv.last_seq - b.n + 1 + i;
      const websiteSeq = site.last_seq - b.n + 1 + i;
      const at = b.timestampOf(i, conv.updated_at);
      if (!("message" in entry)) {
        const event = logEvent(websiteId, sessionId, entry, seq, websiteSeq, at);
        insertEvent.run(eventRow(event));
        events.push(event);
        return;
      }
      const row = messageRow(websiteId, sessionId, seq, websiteSeq, { ...entry.message, timestamp: at });
      try {
        insertMessage.run(row);
      } catch (error) {
        throw isUniqueViolation(error) ? fingerprintConflict(entry.message.fingerprint) : error;
      }
      insertEvent.run(messageEventRow(row));
      const event = messageEvent(row);
      events.push(event);
      messages.push(event.data as Message);
    });
    return { messages, events };
  });
  // The batch runs without a savepoint per message (they cost as much as the writes). A failure —
  // rare: a duplicate client fingerprint — rolls the whole batch back, and each message is then
  // written in its own transaction so only the failing one fails.
  const writeAll = sqlite.transaction((items: Pending[]) => {
    for (const item of items) item.result = writeOne(item.args);
  });
  const writeBatch = (items: Pending[]) => {
    try {
      writeAll(items);
    } catch {
      for (const item of items) {
        item.result = undefined;
        try {
          item.result = write(item.args);
        } catch (error) {
          item.error = error;
        }
      }
    }
  };
  s = {
    bumpConversation,
    setState,
    insertMessage,
    bumpWebsite,
    insertEvent,
    write,
    writeMany,
    writeBatch,
    queue: [],
    scheduled: false,
  };
  cache.set(sqlite, s);
  return s;
}

export async function appendMessageSqlite(
  db: Kysely<DB>,
  sqlite: SQLiteDatabase,
  websiteId: string,
  sessionId: string,
  m: NewMessage,
  options: { transition?: StateTransition | undefined },
): Promise<{ message: Message; events: ConversationEvent[] } | undefined> {
  const st = statements(sqlite);
  const args = { websiteId, sessionId, m, transition: options.transition };
  if (db.isTransaction) return st.write(args);
  // Group commit: messages arriving in the same turn of the event loop share one transaction, so
  // the commit (most of the cost) is paid once per batch. Each caller still gets its answer only
  // after the batch is committed.
  return new Promise<WriteResult>((resolve, reject) => {
    st.queue.push({ args, resolve, reject });
    if (!st.scheduled) {
      st.scheduled = true;
      setImmediate(() => drain(db, st));
    }
  });
}

/** Messages that change no state and plain events, in one transaction (joining the caller's). */
export function appendLogSqlite(db: Kysely<DB>, sqlite: SQLiteDatabase, args: ManyArgs): Promise<ManyResult> {
  const st = statements(sqlite);
  if (db.isTransaction) return Promise.resolve(st.writeMany(args));
  return db.connection().execute(async () => st.writeMany(args));
}

const MAX_BATCH = 256;

function drain(db: Kysely<DB>, st: Statements): void {
  const batch = st.queue.splice(0, MAX_BATCH);
  st.scheduled = st.queue.length > 0;
  if (st.scheduled) setImmediate(() => drain(db, st));
  void flush(db, st, batch);
}

async function flush(db: Kysely<DB>, st: Statements, batch: Pending[]): Promise<void> {
  try {
    await db.connection().execute(async () => st.writeBatch(batch));
  } catch (error) {
    for (const item of batch) item.reject(error);
    return;
  }
  for (const item of batch) {
    if (item.error !== undefined) item.reject(item.error);
    else item.resolve(item.result);
  }
}
