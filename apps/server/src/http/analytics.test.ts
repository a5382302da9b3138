import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentSite, agentSite } from "../../test/agent-site.ts";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";

const DAY = 24 * 3600 * 1000;

describe.each(["sqlite", "postgres"] as const)("analytics on %s", (dialect) => {
  let server: RunningHugo;
  let site: AgentSite;

  beforeAll(async () => {
    server = await startHugo(dialect);
    site = await agentSite(server, "Analytics");
    const added = await site.api("POST", "/api/knowledge/sources", {
      kind: "answer",
      question: "Do you ship abroad?",
      answer: "Yes: we ship across the European Union in 3 to 5 days.",
    });
    expect(added.status).toBe(201);
  });
  afterAll(async () => {
    await site.ws.close();
    await server.stop();
  });

  it("counts conversations, the agent's outcomes, runs by workflow and the questions it escalated", async () => {
    const from = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
    const asked = [
      "Do you ship abroad?",
      "What is the airspeed of an unladen swallow?",
      "what is the AIRSPEED of an unladen swallow",
    ];
    const sessions: string[] = [];
    for (const question of asked) {
      const sessionId = await site.automatedConversation();
      sessions.push(sessionId);
      await site.visitorSays(sessionId, question);
      await site.lastTurnDone(sessionId);
    }
    const turns = await Promise.all(
      sessions.map(
        async (s) => (await site.api("GET", `/api/agent/turns?session_id=${s}`)).body.data[0].status,
      ),
    );
    expect(turns).toEqual(["answered", "escalated", "escalated"]);

    const workflow = await site.api("POST", "/api/workflows", {
      name: "Greeting",
      graph: {
        blocks: [
          { id: "start", kind: "start.code", options: {} },
          { id: "hi", kind: "action.text", options: { text: "Hi!" } },
        ],
        edges: [{ from: "start", handle: "next", to: "hi" }],
      },
    });
    const workflowId = workflow.body.data.workflow_id as string;
    expect((await site.api("POST", `/api/workflows/${workflowId}/deploy`)).status).toBe(201);
    for (const s of sessions.slice(0, 2)) {
      const run = await site.api("POST", `/api/scenario/${workflowId}/trigger/`, { session_id: s });
      await site.poll("the run to end", async () => {
        const r = await site.api("GET", `/api/runs/${run.body.data.run_id}`);
        return r.body.data.status === "completed" ? r : undefined;
      });
    }

    const res = await site.api("GET", `/api/analytics?from=${from}&interval=day&top=5`);
    expect(res.status).toBe(200);
    const a = res.body.data;
    expect(a.from).toBe(from);
    expect(a.series).toHaveLength(3);
    expect(a.series.map((b: { start: number }) => b.start)).toEqual([from, from + DAY, from + 2 * DAY]);
    expect(a.series[2]).toMatchObject({
      conversations: 3,
      answered: 1,
      escalated: 2,
      runs: 2,
      runs_completed: 2,
    });
    expect(a.series[0]).toMatchObject({ conversations: 0, answered: 0, runs: 0 });
    expect(a.totals).toMatchObject({
      conversations: 3,
      answered: 1,
      escalated: 2,
      runs: 2,
      runs_completed: 2,
    });
    expect(a.totals.handled_rate).toBeCloseTo(1 / 3);
    expect(a.workflows).toEqual([
      {
        workflow_id: workflowId,
        name: "Greeting",
        runs: 2,
        completed: 2,
        failed: 0,
        cancelled: 0,
        active: 0,
        completion_rate: 1,
      },
    ]);
    // Two spellings of one question count together; the latest spelling and conversation are shown.
    expect(a.unanswered).toEqual([
      {
        question: "what is the AIRSPEED of an unladen swallow",
        count: 2,
        last_at: expect.any(Number),
        session_id: sessions[2],
      },
    ]);

    // Weeks: one bucket holds it all. Another website sees none of it.
    const weekly = (await site.api("GET", `/api/analytics?from=${from}&interval=week`)).body.data;
    expect(weekly.series).toHaveLength(1);
    expect(weekly.series[0].conversations).toBe(3);
    const other = await site.api("GET", `/api/analytics?from=${from}`, undefined, server.seed.token.token);
    expect(other.status).toBe(200);
    expect(JSON.stringify(other.body.data.unanswered)).not.toContain("swallow");
    expect(other.body.data.workflows.map((w: { workflow_id: string }) => w.workflow_id)).not.toContain(
      workflowId,
    );
  });

  it("refuses a bad window with invalid_query naming the field, and needs conversations:read", async () => {
    const now = Date.now();
    const backwards = await site.api("GET", `/api/analytics?from=${now}&to=${now - DAY}`);
    expect(backwards).toMatchObject({ status: 400, body: { reason: "invalid_query" } });
    expect(backwards.body.data.field).toBe("from");
    const tooLong = await site.api("GET", `/api/analytics?from=${now - 5 * 365 * DAY}&to=${now}`);
    expect(tooLong).toMatchObject({ status: 400, body: { reason: "invalid_query" } });
    expect(tooLong.body.data.field).toBe("from");
    const month = await site.api("GET", "/api/analytics?interval=month");
    expect(month).toMatchObject({ status: 400, body: { reason: "invalid_query" } });
    expect(month.body.data.field).toBe("interval");

    const narrow = (
      await site.api("POST", "/api/tokens", { name: "workflows only", scopes: ["workflows:read"] })
    ).body.data.token as string;
    const refused = await site.api("GET", "/api/analytics", undefined, narrow);
    expect(refused).toMatchObject({ status: 403, body: { reason: "insufficient_scope" } });
  });
});
