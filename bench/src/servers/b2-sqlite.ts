/**
 * B2: raw node:http doing one better-sqlite3 insert of a message-sized row per request (WAL,
 * synchronous=NORMAL, a temp file): the floor cost of "accept a chat message durably" in Node.
 */
import http from "node:http";
import { announce, readBody, sendJson } from "./common.ts";
import { BASELINE_SESSION, BASELINE_WEBSITE, openMessageTable } from "./message-table.ts";

const file = process.env.BENCH_DB;
if (!file) throw new Error("BENCH_DB must name the SQLite file");
const table = openMessageTable(file);

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
  const message = table.store(websiteId, sessionId, input);
  sendJson(res, 202, { error: false, reason: "dispatched", data: { fingerprint: message.fingerprint } });
});
server.keepAliveTimeout = 72_000;
server.listen(0, "127.0.0.1", () => {
  const sample = table.row(BASELINE_WEBSITE, BASELINE_SESSION, {
    type: "text",
    from: "user",
    origin: "chat",
    content: process.env.BENCH_CONTENT ?? "",
  });
  announce(server, { rowBytes: Buffer.byteLength(sample.json) });
});
process.on("exit", () => table.db.close());
