import type http from "node:http";

/** Reads a request body as a string (the baselines do the same JSON work Hugo must do). */
export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString()),
    );
    req.on("error", reject);
  });
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** Tells the parent the server is listening (over the IPC channel the bench opens). */
export function announce(server: http.Server, info: Record<string, unknown> = {}): void {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.send?.({ bench: "ready", port, ...info });
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
