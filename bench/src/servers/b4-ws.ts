/**
 * B4: a bare `ws` server speaking the shape of Hugo's realtime protocol — a client sends
 * `{"type":"subscribe","session_id":…}` and gets `subscribed`; `POST /publish/<session_id>` with a
 * message broadcasts one `event` frame (serialised once) to that conversation's subscribers.
 * The memory and latency floor for "keep N sockets open and fan events out" in Node.
 */
import http from "node:http";
import { WebSocket, WebSocketServer } from "ws";
import { announce, readBody, sendJson } from "./common.ts";

const subscribers = new Map<string, Set<WebSocket>>();
let websiteSeq = 0;

const server = http.createServer(async (req, res) => {
  const match = /^\/publish\/([^/?]+)/.exec(req.url ?? "");
  if (req.method !== "POST" || !match)
    return sendJson(res, 404, { error: true, reason: "not_found", data: {} });
  const sessionId = match[1]!;
  const message = JSON.parse(await readBody(req)) as Record<string, unknown>;
  const seq = ++websiteSeq;
  const frame = JSON.stringify({
    type: "event",
    session_id: sessionId,
    seq,
    website_seq: seq,
    name: "message:send",
    data: { ...message, session_id: sessionId, fingerprint: seq, timestamp: Date.now() },
    timestamp: Date.now(),
  });
  for (const ws of subscribers.get(sessionId) ?? []) if (ws.readyState === WebSocket.OPEN) ws.send(frame);
  sendJson(res, 202, { error: false, reason: "dispatched", data: { fingerprint: seq } });
});

const wss = new WebSocketServer({ server, path: "/api/realtime" });
wss.on("connection", (ws) => {
  const mine = new Set<string>();
  ws.send(JSON.stringify({ type: "ready", principal: "operator", website_id: "b4" }));
  ws.on("message", (data) => {
    let frame: { type?: string; session_id?: string };
    try {
      frame = JSON.parse(String(data));
    } catch {
      return ws.close(1003, "bad frame");
    }
    if (frame.type === "subscribe" && frame.session_id) {
      let set = subscribers.get(frame.session_id);
      if (!set) {
        set = new Set();
        subscribers.set(frame.session_id, set);
      }
      set.add(ws);
      mine.add(frame.session_id);
      ws.send(JSON.stringify({ type: "subscribed", session_id: frame.session_id, up_to: websiteSeq }));
    } else if (frame.type === "ping") ws.send('{"type":"pong"}');
  });
  ws.on("close", () => {
    for (const s of mine) subscribers.get(s)?.delete(ws);
  });
});

server.keepAliveTimeout = 72_000;
server.listen(0, "127.0.0.1", () => announce(server));
