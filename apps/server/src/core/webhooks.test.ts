import http from "node:http";
import type { AddressInfo } from "node:net";
import { Crisp } from "crisp-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

interface Received {
  event: string;
  data: { content?: unknown; state?: string };
  id: number;
  verified: boolean;
}

/** A real HTTP receiver on loopback that verifies signatures with crisp-api, and can be told to fail. */
async function receiver(secretRef: { secret?: string }) {
  const accepted: Received[] = [];
  let failuresLeft = 0;
  const crisp = new Crisp();
  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d) => (raw += d));
    req.on("end", () => {
      if (failuresLeft > 0) {
        failuresLeft--;
        res.writeHead(500).end("try later");
        return;
      }
      const body = JSON.parse(raw);
      const verified = crisp.verifyWidget(
        secretRef.secret ?? "",
        body,
        Number(req.headers["x-crisp-request-timestamp"]),
        req.headers["x-crisp-signature"] as string,
      );
      accepted.push({
        event: body.event,
        data: body.data,
        id: Number(req.headers["x-hugo-event-id"]),
        verified,
      });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    accepted,
    failNext(n: number) {
      failuresLeft = n;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function until(check: () => boolean, what: string, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.each(["sqlite", "postgres"] as const)("web hooks on %s", (dialect) => {
  let server: RunningHugo;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.seed.token.token}`,
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() };
  };
  const say = (session: string, content: string) =>
    call("POST", `/v1/website/${server.seed.websiteId}/conversation/${session}/message`, {
      type: "text",
      from: "user",
      origin: "chat",
      content,
    });

  beforeAll(async () => {
    server = await startHugo(dialect, { OUTBOUND_ALLOW_HOSTS: "127.0.0.1" });
  });
  afterAll(() => server?.stop());

  it("refuses URLs that point inside the network, naming the field", async () => {
    for (const url of [
      "http://10.0.0.5/hook",
      "http://169.254.169.254/latest/meta-data",
      "http://[::1]:8080/",
      "http://localhost/",
      "ftp://example.com/",
    ]) {
      const res = await call("POST", "/api/webhooks", { url });
      expect({ url, status: res.status, reason: res.body.reason, field: res.body.data.field }).toEqual({
        url,
        status: 400,
        reason: "url_not_allowed",
        field: "url",
      });
    }
    expect((await call("GET", "/api/webhooks")).body.data).toEqual([]);
  });

  it("delivers events in order with Crisp's signature, retries failures, and never skips one", async () => {
    const secretRef: { secret?: string } = {};
    const hook = await receiver(secretRef);
    try {
      const created = await call("POST", "/api/webhooks", { url: hook.url });
      expect(created.status).toBe(201);
      secretRef.secret = created.body.data.secret;
      expect(created.body.data.secret).toMatch(/^[0-9a-f]{64}$/);
      const listed = (await call("GET", "/api/webhooks")).body.data;
      expect(listed).toHaveLength(1);
      expect(JSON.stringify(listed)).not.toContain(created.body.data.secret);

      const { session_id } = (await call("POST", `/v1/website/${server.seed.websiteId}/conversation`, {}))
        .body.data;
      await say(session_id, "one");
      await until(() => hook.accepted.some((r) => r.data.content === "one"), "the first delivery");
      hook.failNext(2);
      await say(session_id, "two");
      await say(session_id, "three");
      await until(() => hook.accepted.some((r) => r.data.content === "three"), "deliveries after failures");

      const messages = hook.accepted.filter((r) => r.event === "message:send").map((r) => r.data.content);
      expect(messages).toEqual(["one", "two", "three"]);
      expect(hook.accepted.every((r) => r.verified)).toBe(true);
      // Event ids are the website log's sequence: strictly increasing, nothing accepted twice.
      const ids = hook.accepted.map((r) => r.id);
      expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
      expect(hook.accepted.map((r) => r.event)).toContain("session:created");
      const after = (await call("GET", "/api/webhooks")).body.data[0];
      expect(after).toMatchObject({ last_error: null, delivered_seq: Math.max(...ids) });

      expect((await call("DELETE", `/api/webhooks/${created.body.data.id}`)).status).toBe(200);
      expect((await call("DELETE", `/api/webhooks/${created.body.data.id}`)).body.reason).toBe(
        "webhook_not_found",
      );
    } finally {
      await hook.close();
    }
  });

  it("sends only the events a hook asked for", async () => {
    const secretRef: { secret?: string } = {};
    const hook = await receiver(secretRef);
    try {
      const created = await call("POST", "/api/webhooks", { url: hook.url, events: ["session:set_state"] });
      secretRef.secret = created.body.data.secret;
      const { session_id } = (await call("POST", `/v1/website/${server.seed.websiteId}/conversation`, {}))
        .body.data;
      await say(session_id, "ignored");
      await call("PATCH", `/v1/website/${server.seed.websiteId}/conversation/${session_id}/state`, {
        state: "resolved",
      });
      await until(() => hook.accepted.length >= 1, "the state event");
      await new Promise((r) => setTimeout(r, 300));
      expect(hook.accepted.map((r) => [r.event, r.data.state])).toEqual([["session:set_state", "resolved"]]);
      await call("DELETE", `/api/webhooks/${created.body.data.id}`);
    } finally {
      await hook.close();
    }
  });
});
