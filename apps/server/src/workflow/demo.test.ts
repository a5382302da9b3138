import net from "node:net";
import type { Message, RunDetail } from "@hugo/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe.each(["sqlite", "postgres"] as const)("the demo workflows on %s", (dialect) => {
  let server: RunningHugo;
  beforeAll(async () => {
    const port = await freePort();
    server = await startHugo(dialect, { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
  });
  afterAll(() => server?.stop());

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${server.seed.token.token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return (await res.json()) as { error: boolean; reason: string; data: unknown };
  };
  const poll = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
    const until = Date.now() + 20_000;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it("seeds three deployed workflows", async () => {
    const list = (await api("GET", "/api/workflows")).data as { name: string; deployed_version: number }[];
    expect(list.map((w) => [w.name, w.deployed_version])).toEqual([
      ["Refund request", 1],
      ["Onboarding tour", 1],
      ["Lead capture", 1],
    ]);
  });

  it.each([
    [
      "1042",
      "Good news: order 1042 (delivered) can be refunded. We've sent the next steps to sam@example.com.",
    ],
    ["1043", "Order 1043 needs a closer look — I'm passing you to our team, they'll reply here."],
  ])("runs the refund request with the seed's trigger call for order %s", async (order, answer) => {
    const refund = server.seed.workflows.find((w) => w.name === "Refund request")!;
    const site = `/v1/website/${server.seed.websiteId}`;
    const session = ((await api("POST", `${site}/conversation`, {})).data as { session_id: string })
      .session_id;
    const trigger = await api("POST", `/api/scenario/${refund.workflow_id}/trigger/`, {
      session_id: session,
    });
    const runId = (trigger.data as { run_id: string }).run_id;
    // As the README says: the first steps ran before the answer, which reports the run waiting.
    expect((trigger.data as { status: string }).status).toBe("waiting");
    const say = (text: string) =>
      api("POST", `${site}/conversation/${session}/message`, {
        type: "text",
        from: "user",
        origin: "chat",
        content: text,
      });
    const waiting = (steps: number) =>
      poll("the run to wait", async () => {
        const run = (await api("GET", `/api/runs/${runId}`)).data as RunDetail;
        return run.status === "waiting" && run.steps >= steps ? run : undefined;
      });
    await waiting(3);
    await say(order);
    await waiting(4);
    await say("sam@example.com");
    const done = await poll("the run to end", async () => {
      const run = (await api("GET", `/api/runs/${runId}`)).data as RunDetail;
      return run.status === "completed" || run.status === "failed" ? run : undefined;
    });
    expect(done.status, JSON.stringify(done.log)).toBe("completed");
    const messages = (await api("GET", `${site}/conversation/${session}/messages`)).data as Message[];
    expect(messages.at(-1)?.content).toBe(answer);
    const conversation = (await api("GET", `${site}/conversation/${session}`)).data as {
      meta: { email: string };
      inbox_id: string | null;
    };
    expect(conversation.meta.email).toBe("sam@example.com");
  });
});
