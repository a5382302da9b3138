/**
 * What the SQLite baselines (B2, B3) store: a message-sized row in a better-sqlite3 file with the
 * pragmas Hugo uses (WAL, synchronous=NORMAL).
 */
import SQLite from "better-sqlite3";

export const BASELINE_WEBSITE = "00000000-0000-4000-8000-000000000000";
export const BASELINE_SESSION = `session_${"0".repeat(8)}-0000-4000-8000-${"0".repeat(12)}`;

export function openMessageTable(file: string) {
  const db = new SQLite(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    website_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    content TEXT NOT NULL
  )`);
  const insert = db.prepare(
    "INSERT INTO messages (website_id, session_id, fingerprint, timestamp, content) VALUES (?, ?, ?, ?, ?)",
  );
  let fingerprint = Date.now();

  /** The stored row: the message as Hugo would return it, ~300 bytes of JSON. */
  function row(websiteId: string, sessionId: string, input: Record<string, unknown>) {
    const timestamp = Date.now();
    const message = {
      session_id: sessionId,
      website_id: websiteId,
      type: input.type,
      from: input.from,
      origin: input.origin,
      content: input.content,
      fingerprint: ++fingerprint,
      timestamp,
      user: {},
      automated: false,
      stealth: false,
    };
    return { message, json: JSON.stringify(message) };
  }

  /** Builds and inserts one row (autocommit: one transaction each); returns the message. */
  function store(websiteId: string, sessionId: string, input: Record<string, unknown>) {
    const { message, json } = row(websiteId, sessionId, input);
    insert.run(websiteId, sessionId, message.fingerprint, message.timestamp, json);
    return message;
  }

  return { db, row, store };
}
