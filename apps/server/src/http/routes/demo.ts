import { DemoAgentCall, OrderParams } from "@hugo/protocol";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { AgentService } from "../../agent/service.ts";
import { AppError } from "../../core/errors.ts";
import type { Stores } from "../../core/ports.ts";
import { DEMO_WEBSITE_KEY } from "../../core/seed.ts";
import { Envelope, errorResponses, ok } from "../envelope.ts";

/** The seeded workflow the demo page's button runs (browser-startable, begins with a text). */
export const DEMO_PAGE_WORKFLOW = "Onboarding tour";
/** The instruction the demo "backend" passes to the agent trigger. */
export const DEMO_AGENT_INSTRUCTION = "Demo page visitor: answer briefly and cite the article.";

export interface DemoDeps {
  stores: Stores;
  agent: AgentService;
}

/** The demo website's id, or undefined when this database has none (SEED_DEMO=false on a fresh one). */
async function demoWebsite(stores: Stores): Promise<string | undefined> {
  const id = await stores.kv.get(DEMO_WEBSITE_KEY);
  if (id) return id;
  // Seeded before the key existed: the seed's website, by its name, if the seed ran on this database.
  if (!(await stores.kv.get("demo_seeded"))) return undefined;
  const sites = await stores.websites.list();
  return sites.find((w) => w.name === "Demo website")?.id;
}

/**
 * A fixed one-minute window per key, in this process's memory: enough to keep a public demo route
 * harmless (each call is one agent turn on the demo website).
 */
function windowLimiter(max: number) {
  const hits = new Map<string, { count: number; resetAt: number }>();
  return (key: string): number | undefined => {
    const now = Date.now();
    let entry = hits.get(key);
    if (!entry || entry.resetAt <= now) {
      if (hits.size > 10_000) hits.clear();
      entry = { count: 0, resetAt: now + 60_000 };
      hits.set(key, entry);
    }
    entry.count++;
    return entry.count > max ? Math.ceil((entry.resetAt - now) / 1000) : undefined;
  };
}

/**
 * Hugo's own demo endpoints under `/api/demo/`:
 * - a pretend order service the seeded "Refund request" workflow calls with its HTTP block, so the
 *   demo works with nothing else running (orders 1000–9999: an even number is refundable);
 * - the demo page's "backend": it takes a widget session id and calls the agent trigger for the
 *   demo website only, so the page needs no token. Rate-limited per IP and per conversation.
 */
export const demoRoutes =
  (deps: DemoDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      "/demo/orders/:order",
      {
        schema: {
          tags: ["Demo"],
          summary: "Demo order lookup used by the seeded refund workflow",
          params: OrderParams,
        },
      },
      async (req, reply) => {
        const order = Number(req.params.order);
        if (!Number.isInteger(order) || order < 1000 || order > 9999) {
          reply.code(404);
          return { error: true, reason: "order_not_found", data: { message: "Demo orders are 1000–9999." } };
        }
        const refundable = order % 2 === 0;
        return { order, status: refundable ? "delivered" : "shipped over 30 days ago", refundable };
      },
    );

    const perIp = windowLimiter(10);
    const perSession = windowLimiter(5);
    app.post(
      "/demo/agent",
      {
        schema: {
          tags: ["Demo"],
          summary: "The demo page's backend: asks the AI agent to step into a demo visitor's conversation",
          description:
            'What your own backend would do with the session id its page sends (`$crisp.get("session:identifier")`): call `POST /api/agent/trigger/` with its token. This one works for the seeded demo website only, needs no token, and allows 10 calls a minute per IP and 5 per conversation.',
          body: DemoAgentCall,
          response: {
            202: Envelope(z.object({ turn_id: z.string(), status: z.string() })),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const websiteId = await demoWebsite(deps.stores);
        if (!websiteId) throw new AppError("route_not_found", "This Hugo has no demo website.");
        const wait = perIp(`ip:${req.ip}`) ?? perSession(`session:${req.body.session_id}`);
        if (wait !== undefined) {
          reply.header("retry-after", wait);
          throw new AppError("rate_limited", `Too many demo calls; retry in ${wait} s.`);
        }
        // A conversation of another website is "not found", as with the real trigger.
        const result = await deps.agent.trigger(websiteId, {
          session_id: req.body.session_id,
          instruction: DEMO_AGENT_INSTRUCTION,
        });
        reply.code(202);
        return ok(result, "dispatched");
      },
    );
  };

/** `GET /demo`: a page with the Crisp snippet pointed at this Hugo, for the demo website. */
export const demoPageRoutes =
  (deps: DemoDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.get("/demo", { schema: { hide: true } }, async (_req, reply) => {
      const websiteId = await demoWebsite(deps.stores);
      if (!websiteId) throw new AppError("route_not_found", "This Hugo has no demo website (SEED_DEMO).");
      const workflows = await deps.stores.workflows.list(websiteId);
      const startable = workflows.filter((w) => w.browser_startable && w.deployed_version !== null);
      const workflow = startable.find((w) => w.name === DEMO_PAGE_WORKFLOW) ?? startable[0];
      reply
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .header("x-content-type-options", "nosniff");
      return demoPage(websiteId, workflow ? { id: workflow.id, name: workflow.name } : undefined);
    });
  };

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function demoPage(websiteId: string, workflow: { id: string; name: string } | undefined): string {
  const id = JSON.stringify(websiteId);
  const snippet = `<script>
  window.$crisp = []; window.CRISP_WEBSITE_ID = ${id};
  (function(){var d=document,s=d.createElement("script");s.src="/l.js";s.async=1;d.getElementsByTagName("head")[0].appendChild(s);})();
</script>`;
  const button = workflow
    ? `<button id="run-workflow" onclick="$crisp.push(['do','chat:open']);$crisp.push(['do','bot:scenario:run',['${workflow.id}']])">Run “${escapeHtml(workflow.name)}”</button>`
    : `<p>No browser-startable workflow is deployed on the demo website.</p>`;
  const backend = `// Your backend (Node). HUGO_URL and HUGO_TOKEN come from your server's own configuration:
// the token never reaches the page.
app.post("/support/agent", async (req, res) => {
  await fetch(\`\${HUGO_URL}/api/agent/trigger/\`, {
    method: "POST",
    headers: { authorization: \`Bearer \${HUGO_TOKEN}\`, "content-type": "application/json" },
    body: JSON.stringify({ session_id: req.body.session_id, instruction: "VIP customer, premium support" }),
  });
  res.sendStatus(202);
});`;
  const page = `// The page: send the widget's session id to your backend.
fetch("/support/agent", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ session_id: $crisp.get("session:identifier") }),
});`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hugo demo</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;color:#1f2328}
pre{background:#f6f8fa;padding:.8rem;border-radius:6px;overflow:auto;font-size:13px}
button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #1f6feb;background:#1f6feb;color:#fff;cursor:pointer}
button:disabled{opacity:.5;cursor:default}
#status{color:#57606a;font-size:14px}
</style>
${snippet}
</head><body>
<h1>Hugo demo</h1>
<p>This page includes the standard Crisp snippet with its script URL pointed at this Hugo, for the demo
website <code>${escapeHtml(websiteId)}</code>. The chat button is at the bottom right.</p>
<pre>${escapeHtml(snippet)}</pre>

<h2>1. A button that runs a workflow</h2>
<p>A browser-startable workflow runs in the visitor's conversation with one <code>$crisp</code> call:</p>
<pre>${escapeHtml(workflow ? `<button onclick="$crisp.push(['do','bot:scenario:run',['${workflow.id}']])">` : "")}</pre>
${button}

<h2>2. Your backend asks the AI agent to step in</h2>
<p>The page sends its session id to your backend, which calls <code>POST /api/agent/trigger/</code> with its
API token — the token never reaches the browser. Here Hugo's demo route <code>POST /api/demo/agent</code> plays
your backend (demo website only, rate-limited). Ask a question in the chat first (e.g. “How do I trigger a
workflow from my backend?”), then click:</p>
<pre>${escapeHtml(page)}</pre>
<pre>${escapeHtml(backend)}</pre>
<button id="ask-agent" disabled>Ask the AI agent (via the backend)</button>
<p id="status">Waiting for the chat session…</p>
<script>
(function(){
  var ask = document.getElementById("ask-agent"), status = document.getElementById("status");
  $crisp.push(["on", "session:loaded", function (sessionId) {
    ask.disabled = false;
    status.textContent = "Session " + sessionId;
  }]);
  ask.onclick = function () {
    $crisp.push(["do", "chat:open"]);
    ask.disabled = true;
    fetch("/api/demo/agent", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ session_id: $crisp.get("session:identifier") })
    }).then(function (r) { return r.json(); }).then(function (body) {
      status.textContent = body.error ? "Refused: " + body.reason : "The agent is on it (" + body.data.turn_id + ").";
    }, function () { status.textContent = "The demo backend could not be reached."; })
      .finally(function () { ask.disabled = false; });
  };
})();
</script>
</body></html>
`;
}
