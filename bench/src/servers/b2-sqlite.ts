/**
 * B2: raw node:http doing one better-sqlite3 insert of a message-sized row per request (WAL,
 * synchronous=NORMAL, a temp file): the floor cost of "accept a chat message durably" in Node.
 */
import http from "node:http";
import SQLite from "better-sqlite3";
import { announce, readBody, sendJson } from "./common.ts";

const file = process.env.BENCH_DB;
if (!file) throw new Error("BENCH_DB must name the SQLite file");
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

const server = http.createServer(async (req, res) => {
  // /v1/website/<website_id>/conversation/<session_id>/message
  const parts = (req.url ?? "").split("/");
  const websiteId = parts[3] ?? "";
  const sessionId = parts[5] ?? "";
  if (req.method !== "POST" || !sessionId)
    return sendJson(res, 404, { error: true, reason: "not_found", data: {} });
  const input = JSON.parse(await readBody(req)) as Record<string, unknown>;
  if (typeof input.content !== "string")
    return sendJson(res, 400, { error: true, reason: "invalid_data", data: {} });
  const { message, json } = row(websiteId, sessionId, input);
  insert.run(websiteId, sessionId, message.fingerprint, message.timestamp, json);
  sendJson(res, 202, { error: false, reason: "dispatched", data: { fingerprint: message.fingerprint } });
});
server.keepAliveTimeout = 72_000;
server.listen(0, "127.0.0.1", () => {
  const sample = row(
    "00000000-0000-4000-8000-000000000000",
    `session_${"0".repeat(8)}-0000-4000-8000-${"0".repeat(12)}`,
    {
      type: "text",
      from: "user",
      origin: "chat",
      content: process.env.BENCH_CONTENT ?? "",
    },
  );
  announce(server, { rowBytes: Buffer.byteLength(sample.json) });
});
process.on("exit", () => db.close());
