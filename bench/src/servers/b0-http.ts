/**
 * B0: raw node:http answering a small JSON POST — parse the body, answer Hugo's 202 envelope.
 * The ceiling of this machine + load generator for an HTTP round trip with JSON in and out.
 */
import http from "node:http";
import { announce, readBody, sendJson } from "./common.ts";

let fingerprint = Date.now();

const server = http.createServer(async (req, res) => {
  if (req.method !== "POST") return sendJson(res, 404, { error: true, reason: "not_found", data: {} });
  const input = JSON.parse(await readBody(req)) as { content?: unknown };
  if (typeof input.content !== "string")
    return sendJson(res, 400, { error: true, reason: "invalid_data", data: {} });
  sendJson(res, 202, { error: false, reason: "dispatched", data: { fingerprint: ++fingerprint } });
});
server.keepAliveTimeout = 72_000;
server.listen(0, "127.0.0.1", () => announce(server));
