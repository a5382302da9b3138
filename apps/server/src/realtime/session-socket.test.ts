import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";
import { Client, waitFor } from "../../test/ws-client.ts";

/** The dashboard's live updates: `/api/realtime?auth=session` with the operator's session cookie. */
describe.each(["sqlite", "postgres"] as const)("a dashboard socket on %s", (dialect) => {
  let server: RunningHugo;
  const sockets: Client[] = [];
  const track = (c: Client) => {
    sockets.push(c);
    return c;
  };
  /** Signs the owner in; the cookie and CSRF token a browser would hold. */
  const signIn = async () => {
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: server.seed.ownerEmail, password: server.seed.ownerPassword }),
    });
    const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    const csrf = ((await res.json()) as { data: { csrf_token: string } }).data.csrf_token;
    return { cookie, csrf };
  };
  const failedUpgrade = (client: Client) =>
    new Promise<number>((resolve) =>
      client.ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );

  beforeAll(async () => {
    server = await startHugo(dialect, { WS_PING_INTERVAL_MS: "300" });
  });
  afterAll(async () => {
    for (const s of sockets) s.ws.terminate();
    await server.stop();
  });

  it("follows the website live with the session cookie, from Hugo's own origin", async () => {
    const { cookie } = await signIn();
    const op = track(
      await Client.connect(server.url, { query: "?auth=session", headers: { cookie, origin: server.url } }),
    );
    expect(await op.next((f) => f.type === "ready")).toMatchObject({
      principal: "operator",
      website_id: server.seed.websiteId,
    });
    await op.subscribe(null);
    const from = op.frames.length;
    await fetch(
      `${server.url}/v1/website/${server.seed.websiteId}/conversation/${server.seed.sessionId}/message`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${server.seed.token.token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "text", from: "user", origin: "chat", content: "Live in the inbox" }),
      },
    );
    const event = await op.next(
      (f) => f.type === "event" && (f.data as { content?: unknown }).content === "Live in the inbox",
      from,
    );
    expect(event).toMatchObject({ type: "event", name: "message:send" });
  });

  it("refuses another origin (cross-site WebSocket hijacking), a missing or ended session", async () => {
    const { cookie } = await signIn();
    const evil = new Client(server.url, {
      query: "?auth=session",
      headers: { cookie, origin: "http://evil.example" },
    });
    expect(await failedUpgrade(evil)).toBe(403);
    const noOrigin = new Client(server.url, { query: "?auth=session", headers: { cookie } });
    expect(await failedUpgrade(noOrigin)).toBe(403);
    const noCookie = new Client(server.url, { query: "?auth=session", headers: { origin: server.url } });
    expect(await failedUpgrade(noCookie)).toBe(401);
    const forged = new Client(server.url, {
      query: "?auth=session",
      headers: { cookie: `hugo_session=${"c".repeat(64)}`, origin: server.url },
    });
    expect(await failedUpgrade(forged)).toBe(401);
  });

  it("leaves a page's cookie alone unless the socket asks for the session (the widget on Hugo's own origin)", async () => {
    const { cookie } = await signIn();
    const widget = track(await Client.connect(server.url, { headers: { cookie, origin: server.url } }));
    // No ready frame: an anonymous socket that must authenticate by frame, as the widget does.
    widget.send({ type: "auth", token: server.seed.token.token });
    const ready = await widget.next((f) => f.type === "ready" || f.type === "error");
    expect(ready.type).toBe("ready");
    expect(widget.frames.filter((f) => f.type === "ready")).toHaveLength(1);
  });

  it("closes the socket once its operator signs out", async () => {
    const { cookie, csrf } = await signIn();
    const op = track(
      await Client.connect(server.url, { query: "?auth=session", headers: { cookie, origin: server.url } }),
    );
    await op.next((f) => f.type === "ready");
    const out = await fetch(`${server.url}/api/auth/logout`, {
      method: "POST",
      headers: { cookie, "x-csrf-token": csrf },
    });
    expect(out.status).toBe(200);
    expect((await op.closed).code).toBe(4401);
    await waitFor("the error frame", () => op.frames.find((f) => f.type === "error"));
  });
});
