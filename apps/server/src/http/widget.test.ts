import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickerFieldGraph } from "../../test/graphs.ts";
import { type RunningHugo, startHugo } from "../../test/hugo.ts";
import { Client } from "../../test/ws-client.ts";
import { ConfigError, loadConfig } from "../config.ts";

describe.each(["sqlite", "postgres"] as const)("the widget's visitor API on %s", (dialect) => {
  let server: RunningHugo;
  let site: string;
  let workflow: (name: string) => string;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { "content-type": "application/json", origin: "https://shop.example", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
  };
  const open = async (body: Record<string, unknown> = {}) => {
    const r = await call("POST", `/api/widget/${site}/session`, body);
    expect(r.status).toBe(200);
    return r.body.data as { session_id: string; token: string; resumed: boolean };
  };
  const api = (path: string) =>
    fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.seed.token.token}` } }).then(
      (r) => r.json(),
    );

  beforeAll(async () => {
    server = await startHugo(dialect);
    site = server.seed.websiteId;
    workflow = (name) => server.seed.workflows.find((w) => w.name === name)!.workflow_id;
  });
  afterAll(() => server?.stop());

  it("answers CORS preflights from any origin without allowing cookies", async () => {
    const response = await fetch(`${server.url}/api/widget/${site}/message`, {
      method: "OPTIONS",
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-hugo-visitor",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("access-control-allow-headers")).toContain("x-hugo-visitor");
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("creates a session in the automated inbox, and in the main inbox when the agent routes", async () => {
    const first = await open();
    expect(first.session_id).toMatch(/^session_/);
    expect(first.resumed).toBe(false);
    expect((await api(`/v1/website/${site}/conversation/${first.session_id}`)).data.inbox_id).toBe(
      "automated",
    );
    await server.hugo.services.agent.updateSettings(site, { activation: "route" });
    try {
      const routed = await open();
      expect((await api(`/v1/website/${site}/conversation/${routed.session_id}`)).data.inbox_id).toBeNull();
    } finally {
      await server.hugo.services.agent.updateSettings(site, { activation: "answer" });
    }
  });

  it("resumes the conversation of a valid stored credential, and ignores a forged one", async () => {
    const first = await open();
    const again = await open({ token: first.token });
    expect(again).toMatchObject({ session_id: first.session_id, resumed: true });
    const forged = await open({ token: `${first.token.slice(0, -4)}0000` });
    expect(forged.session_id).not.toBe(first.session_id);
  });

  it("gives the same conversation to the same CRISP_TOKEN_ID on another device", async () => {
    const laptop = await open({ token_id: "user-42" });
    const phone = await open({ token_id: "user-42" });
    expect(phone).toMatchObject({ session_id: laptop.session_id, resumed: true });
    expect((await open({ token_id: "user-43" })).session_id).not.toBe(laptop.session_id);
    // A browser that already chats keeps its conversation when the site logs the user in.
    const anonymous = await open();
    const loggedIn = await open({ token: anonymous.token, token_id: "user-44" });
    expect(loggedIn.session_id).toBe(anonymous.session_id);
    expect((await open({ token_id: "user-44" })).session_id).toBe(anonymous.session_id);
  });

  it("sends a visitor message once, even when the widget retries it with its fingerprint", async () => {
    const visitor = await open();
    const headers = { "x-hugo-visitor": visitor.token };
    const body = { type: "text", content: "Where is my order?", fingerprint: 1_700_000_000_000_123 };
    const sent = await call("POST", `/api/widget/${site}/message`, body, headers);
    expect(sent.status).toBe(200);
    expect(sent.headers.get("access-control-allow-origin")).toBe("*");
    const retried = await call("POST", `/api/widget/${site}/message`, body, headers);
    expect(retried.body.data).toEqual(sent.body.data);
    const other = await call("POST", `/api/widget/${site}/message`, { ...body, content: "else" }, headers);
    expect(other).toMatchObject({ status: 409, body: { reason: "fingerprint_conflict" } });
    const messages = (await api(`/v1/website/${site}/conversation/${visitor.session_id}/messages`)).data;
    const mine = messages.filter((m: { from: string }) => m.from === "user");
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ content: "Where is my order?", origin: "chat" });
  });

  it("sets the visitor's contact, data, segments and events", async () => {
    const visitor = await open();
    const headers = { "x-hugo-visitor": visitor.token };
    const set = (body: unknown) => call("PATCH", `/api/widget/${site}/visitor`, body, headers);
    expect((await set({ email: "ada@example.com", nickname: "Ada", data: { plan: "pro" } })).status).toBe(
      200,
    );
    expect((await set({ segments: { segments: ["vip"] } })).status).toBe(200);
    expect(
      (await set({ segments: { segments: ["beta"] }, events: [{ name: "signup", color: "blue" }] })).status,
    ).toBe(200);
    const meta = (await api(`/v1/website/${site}/conversation/${visitor.session_id}/meta`)).data;
    expect(meta).toMatchObject({ email: "ada@example.com", nickname: "Ada", data: { plan: "pro" } });
    expect(meta.segments).toEqual(["vip", "beta"]);
    expect((await set({ segments: { segments: ["only"], overwrite: true } })).status).toBe(200);
    expect((await api(`/v1/website/${site}/conversation/${visitor.session_id}/meta`)).data.segments).toEqual([
      "only",
    ]);
  });

  it("refuses bad input with a stable code naming the field, and never a 500", async () => {
    const visitor = await open();
    const headers = { "x-hugo-visitor": visitor.token };
    const badEmail = await call("PATCH", `/api/widget/${site}/visitor`, { email: "nope" }, headers);
    expect(badEmail).toMatchObject({
      status: 400,
      body: { reason: "invalid_body", data: { field: "email" } },
    });
    const empty = await call("POST", `/api/widget/${site}/message`, { type: "text", content: "  " }, headers);
    expect(empty).toMatchObject({ status: 400, body: { data: { field: "content" } } });
    const badSite = await call("POST", "/api/widget/not-a-uuid/session", {});
    expect(badSite).toMatchObject({
      status: 400,
      body: { reason: "invalid_params", data: { field: "website_id" } },
    });
    const unknown = await call("POST", "/api/widget/00000000-0000-4000-8000-000000000000/session", {});
    expect(unknown).toMatchObject({ status: 404, body: { reason: "website_not_found" } });
    const anonymous = await call("POST", `/api/widget/${site}/message`, { type: "text", content: "hi" });
    expect(anonymous).toMatchObject({ status: 401, body: { reason: "unauthorized" } });
    const badVars = await call(
      "POST",
      `/api/widget/${site}/scenario/${workflow("Onboarding tour")}/run`,
      { variables: { "bad name": 1 } },
      headers,
    );
    expect(badVars.status).toBe(400);
    expect(badVars.body.data.field).toMatch(/^variables/);
  });

  it("answers another website's visitor credential like an unknown conversation", async () => {
    const other = await server.hugo.services.websites.create({ name: "Other" });
    const theirs = (await call("POST", `/api/widget/${other.id}/session`, {})).body.data;
    const r = await call(
      "POST",
      `/api/widget/${site}/message`,
      { type: "text", content: "hi" },
      { "x-hugo-visitor": theirs.token },
    );
    expect(r).toMatchObject({ status: 404, body: { reason: "session_not_found" } });
  });

  it("runs a browser-startable workflow in the visitor's conversation and refuses the others", async () => {
    const visitor = await open();
    const headers = { "x-hugo-visitor": visitor.token };
    const ws = await Client.auth(server.url, visitor.token);
    await ws.subscribe(null, 0);
    const run = await call(
      "POST",
      `/api/widget/${site}/scenario/${workflow("Onboarding tour")}/run`,
      {},
      headers,
    );
    expect(run.status).toBe(202);
    expect(run.body.data).toMatchObject({ workflow_id: workflow("Onboarding tour") });
    const hello = await ws.next(
      (f) =>
        f.type === "event" &&
        f.name === "message:received" &&
        JSON.stringify(f.data).includes("Welcome aboard"),
    );
    expect(hello).toMatchObject({ session_id: visitor.session_id });
    ws.ws.close();
    const refused = await call(
      "POST",
      `/api/widget/${site}/scenario/${workflow("Lead capture")}/run`,
      {},
      headers,
    );
    expect(refused).toMatchObject({ status: 403, body: { reason: "workflow_not_browser_startable" } });
    const missing = await call(
      "POST",
      `/api/widget/${site}/scenario/scenario_00000000-0000-4000-8000-000000000000/run`,
      {},
      headers,
    );
    expect(missing).toMatchObject({ status: 404, body: { reason: "workflow_not_found" } });
  });

  it("answers a picker by a click and fills a field, resuming the waiting workflow; refuses the rest", async () => {
    const bearer = { authorization: `Bearer ${server.seed.token.token}` };
    const created = await call(
      "POST",
      "/api/workflows",
      {
        name: "Widget answers",
        browser_startable: true,
        graph: pickerFieldGraph({
          question: "Refund?",
          yes: "Yes",
          thanks: "Thanks {{ email }} ({{ choice }})",
        }),
      },
      bearer,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.data.workflow_id as string;
    expect((await call("POST", `/api/workflows/${id}/deploy`, {}, bearer)).body.error).toBe(false);

    const visitor = await open();
    const headers = { "x-hugo-visitor": visitor.token };
    const messages = async () =>
      (await api(`/v1/website/${site}/conversation/${visitor.session_id}/messages`)).data as {
        fingerprint: number;
        type: string;
        from: string;
        content: unknown;
      }[];
    const waitFor = async (what: (m: Awaited<ReturnType<typeof messages>>) => boolean) => {
      for (let i = 0; i < 100; i++) {
        if (what(await messages())) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("timed out");
    };
    expect((await call("POST", `/api/widget/${site}/scenario/${id}/run`, {}, headers)).status).toBe(202);
    await waitFor((ms) => ms.some((m) => m.type === "picker"));
    const picker = (await messages()).find((m) => m.type === "picker")!;
    const answer = (fingerprint: number, value: unknown, as: Record<string, string> = headers) =>
      call("POST", `/api/widget/${site}/message/${fingerprint}/answer`, { value }, as);

    // Validated: a value that is not a choice names the field; another visitor cannot answer.
    expect(await answer(picker.fingerprint, "maybe")).toMatchObject({
      status: 400,
      body: { reason: "invalid_body", data: { field: "value" } },
    });
    const stranger = await open();
    expect(await answer(picker.fingerprint, "yes", { "x-hugo-visitor": stranger.token })).toMatchObject({
      status: 404,
      body: { reason: "message_not_found" },
    });
    expect((await answer(picker.fingerprint, "yes", {})).status).toBe(401);

    const clicked = await answer(picker.fingerprint, "yes");
    expect(clicked.status).toBe(200);
    expect(clicked.headers.get("access-control-allow-origin")).toBe("*");
    expect(clicked.body.data).toMatchObject({
      fingerprint: picker.fingerprint,
      type: "picker",
      content: {
        text: "Refund?",
        choices: [
          { value: "yes", selected: true },
          { value: "no", selected: false },
        ],
      },
    });
    // The same click again is a no-op; another choice once answered is refused.
    expect((await answer(picker.fingerprint, "yes")).status).toBe(200);
    expect(await answer(picker.fingerprint, "no")).toMatchObject({
      status: 400,
      body: { data: { field: "value" } },
    });

    await waitFor((ms) => ms.some((m) => m.type === "field"));
    const field = (await messages()).find((m) => m.type === "field")!;
    // The field block's type (email) is checked at once; the workflow keeps waiting.
    expect(await answer(field.fingerprint, "not an email")).toMatchObject({
      status: 400,
      body: { reason: "invalid_body", data: { field: "value", message: "value: not an email address." } },
    });
    expect(await answer(field.fingerprint, "   ")).toMatchObject({
      status: 400,
      body: { data: { field: "value" } },
    });
    const filled = await answer(field.fingerprint, "Ada@Example.com");
    expect(filled.body.data).toMatchObject({
      type: "field",
      content: { text: "Your email?", value: "Ada@Example.com" },
    });
    await waitFor((ms) => ms.some((m) => m.type === "text" && m.content === "Thanks ada@example.com (yes)"));

    // Only pickers and fields sent to the visitor: not the visitor's own text, not a text message.
    const mine = await call("POST", `/api/widget/${site}/message`, { type: "text", content: "hi" }, headers);
    expect(await answer(mine.body.data.fingerprint, "x")).toMatchObject({
      status: 400,
      body: { data: { field: "fingerprint" } },
    });
    expect((await answer(999_999, "x")).body.reason).toBe("message_not_found");
    const stored = (await messages()).find((m) => m.type === "picker")!.content as { text: string };
    expect(stored.text).toBe("Refund?");
  });

  it("rate-limits scenario runs per visitor with a Retry-After", async () => {
    const visitor = await open();
    const headers = { "x-hugo-visitor": visitor.token };
    const path = `/api/widget/${site}/scenario/${workflow("Lead capture")}/run`;
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await call("POST", path, {}, headers)).status);
    expect(statuses.slice(0, 10).every((s) => s === 403)).toBe(true);
    const limited = await call("POST", path, {}, headers);
    expect(limited).toMatchObject({ status: 429, body: { reason: "rate_limited" } });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another visitor on the same IP still has its own budget.
    const next = await open();
    const own = await call("POST", path, {}, { "x-hugo-visitor": next.token });
    expect(own.status).toBe(403);
  });

  describe("help-desk search", () => {
    let shop: { id: string };
    let headers: Record<string, string>;
    const search = (query: string, h: Record<string, string> = headers, id = shop.id) =>
      call("GET", `/api/widget/${id}/helpdesk/search?${query}`, undefined, h);
    const titles = (r: { body: { data: { results: { title: string }[] } } }) =>
      r.body.data.results.map((x) => x.title);

    beforeAll(async () => {
      // A website of its own, so the demo's knowledge does not take part.
      shop = await server.hugo.services.websites.create({ name: "Parcel shop" });
      const knowledge = server.hugo.services.knowledge;
      const long = "Pack the parcel in its original box. ".repeat(20);
      const add = (source: Parameters<typeof knowledge.create>[1]) => knowledge.create(shop.id, source);
      await add({
        kind: "helpdesk",
        title: "Return a parcel",
        url: "https://help.parcel.example/returns",
        locale: "en",
        format: "markdown",
        body: `# Return a parcel\n\nReturn any parcel within 30 days.\n\n## Packing the parcel\n\n${long}\n\n## Parcel labels\n\nPrint the parcel label from your account.`,
      });
      await add({
        kind: "answer",
        question: "Can I track my parcel?",
        answer: "Yes, the parcel tracking link is in your email.",
        locale: "en",
      });
      await add({
        kind: "helpdesk",
        title: "Retourner un colis",
        locale: "fr",
        format: "markdown",
        body: "Retournez le colis sous 30 jours.",
      });
      await add({
        kind: "helpdesk",
        title: "Parcel insurance (draft)",
        enabled: false,
        format: "markdown",
        body: "Parcel insurance is internal for now.",
      });
      await add({
        kind: "webpage",
        url: "https://parcel.example/parcel",
        html: "<html><head><title>Parcel page</title></head><body><main><p>Parcel parcel parcel on our home page.</p></main></body></html>",
      });
      await add({
        kind: "document",
        filename: "parcel-internal.md",
        content_base64: Buffer.from("# Parcel procedures\n\nInternal parcel handling procedure.").toString(
          "base64",
        ),
      });
      const visitor = (await call("POST", `/api/widget/${shop.id}/session`, {})).body.data;
      headers = { "x-hugo-visitor": visitor.token };
    });

    it("answers help articles and answers, one result per source, never documents, web pages or disabled sources", async () => {
      const r = await search("q=parcel");
      expect(r.status).toBe(200);
      expect(r.headers.get("access-control-allow-origin")).toBe("*");
      expect(r.body.data.query).toBe("parcel");
      expect(titles(r).sort()).toEqual(["Can I track my parcel?", "Return a parcel"]);
      const article = r.body.data.results.find((x: { title: string }) => x.title === "Return a parcel");
      expect(article).toMatchObject({
        kind: "helpdesk",
        url: "https://help.parcel.example/returns",
        source_id: expect.stringMatching(/^source_/),
      });
      expect(article.snippet.length).toBeLessThanOrEqual(240);
      const answer = r.body.data.results.find((x: { kind: string }) => x.kind === "answer");
      expect(answer).toMatchObject({ url: null, snippet: expect.stringContaining("tracking link") });
      // The best passage wins: the search for a heading's words names that heading.
      const labels = await search("q=print%20label");
      expect(labels.body.data.results[0]).toMatchObject({
        title: "Return a parcel",
        heading: expect.stringContaining("Parcel labels"),
      });
      expect((await search("q=zebra%20xylophone")).body.data.results).toEqual([]);
    });

    it("keeps to the locale asked for", async () => {
      expect(titles(await search("q=colis&locale=fr"))).toEqual(["Retourner un colis"]);
      expect(titles(await search("q=colis&locale=en"))).toEqual([]);
      expect(titles(await search("q=parcel&locale=fr"))).toEqual([]);
      const bad = await search("q=parcel&locale=not%20a%20locale");
      expect(bad).toMatchObject({ status: 400, body: { data: { field: "locale" } } });
    });

    it("refuses an empty query naming q, a missing credential, and another website's credential", async () => {
      for (const q of ["q=", "q=%20%20", ""]) {
        const r = await search(q);
        expect(r.status).toBe(400);
        expect(r.body.data.field).toBe("q");
      }
      expect((await search("q=parcel", {})).body).toMatchObject({ reason: "unauthorized" });
      expect((await search("q=parcel", {}, site)).status).toBe(401);
      // The demo website's visitor cannot search this website's help desk.
      const demoVisitor = await open();
      const r = await search("q=parcel", { "x-hugo-visitor": demoVisitor.token });
      expect(r).toMatchObject({ status: 404, body: { reason: "session_not_found" } });
    });

    it("rate-limits searches per visitor with a Retry-After", async () => {
      const own = (await call("POST", `/api/widget/${shop.id}/session`, {})).body.data;
      const h = { "x-hugo-visitor": own.token };
      const statuses = await Promise.all(
        Array.from({ length: 60 }, () => search("q=parcel", h).then((r) => r.status)),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
      const limited = await search("q=parcel", h);
      expect(limited).toMatchObject({ status: 429, body: { reason: "rate_limited" } });
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await search("q=parcel")).status).toBe(200);
    });
  });

  it("marks the operator's messages read for the visitor, once, telling the operator side", async () => {
    const visitor = await open();
    const headers = { "x-hugo-visitor": visitor.token };
    const path = `/v1/website/${site}/conversation/${visitor.session_id}`;
    const operatorSays = (content: string) =>
      fetch(`${server.url}${path}/message`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.seed.token.token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "text", from: "operator", origin: "chat", content }),
      }).then(async (r) => (await r.json()).data.fingerprint as number);
    const first = await operatorSays("Hi, how can I help?");
    const second = await operatorSays("Are you there?");
    expect((await api(path)).data.unread.visitor).toBe(2);
    // The operator side follows the conversation live.
    const operator = await Client.connect(server.url, { bearer: server.seed.token.token });
    await operator.subscribe(visitor.session_id);
    const receipts = () => operator.events().filter((e) => e.name === "message:acknowledge:read");

    const read = await call("POST", `/api/widget/${site}/read`, {}, headers);
    expect(read).toMatchObject({
      status: 200,
      body: { error: false, data: { fingerprints: [first, second] } },
    });
    const receipt = await operator.next((f) => f.type === "event" && f.name === "message:acknowledge:read");
    expect(receipt).toMatchObject({ data: { reader: "user", fingerprints: [first, second] } });
    expect((await api(path)).data.unread.visitor).toBe(0);
    const messages = (await api(`${path}/messages`)).data as {
      fingerprint: number;
      from: string;
      read: boolean;
    }[];
    expect(messages.filter((m) => m.from === "operator").map((m) => [m.fingerprint, m.read])).toEqual([
      [first, true],
      [second, true],
    ]);
    // Nothing new: nothing changes, and no event.
    expect((await call("POST", `/api/widget/${site}/read`, {}, headers)).body.data).toEqual({
      fingerprints: [],
    });
    await operatorSays("One more thing");
    await operator.next((f) => f.type === "event" && JSON.stringify(f.data).includes("One more thing"));
    expect(receipts()).toHaveLength(1);
    operator.close();

    // Bad input names the field; no credential, no receipt.
    expect(await call("POST", `/api/widget/${site}/read`, { fingerprints: ["x"] }, headers)).toMatchObject({
      status: 400,
      body: { reason: "invalid_body", data: { field: "fingerprints.0" } },
    });
    expect((await call("POST", `/api/widget/${site}/read`, {})).status).toBe(401);
  });

  describe("files from the visitor", () => {
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
      "base64",
    );
    const upload = (token: string | undefined, name: string, body: Buffer | string, type: string) =>
      fetch(`${server.url}/api/widget/${site}/file?name=${encodeURIComponent(name)}`, {
        method: "POST",
        headers: {
          "content-type": type,
          origin: "https://shop.example",
          ...(token ? { "x-hugo-visitor": token } : {}),
        },
        body: body as unknown as BodyInit,
      }).then(async (r) => ({ status: r.status, headers: r.headers, body: await r.json() }));

    it("stores an image and serves it inline, then the widget sends it as a file message", async () => {
      const visitor = await open();
      const up = await upload(visitor.token, "receipt.png", png, "image/png");
      expect(up.status, JSON.stringify(up.body)).toBe(200);
      expect(up.headers.get("access-control-allow-origin")).toBe("*");
      expect(up.body.data).toMatchObject({ name: "receipt.png", type: "image/png", size: png.length });
      expect(up.body.data.file_id).toMatch(/^file_[0-9a-f-]{36}$/);
      expect(up.body.data.path).toBe(`/api/widget/${site}/file/${up.body.data.file_id}/receipt.png`);
      const served = await fetch(`${server.url}${up.body.data.path}`);
      expect(served.status).toBe(200);
      expect(served.headers.get("content-type")).toBe("image/png");
      expect(served.headers.get("content-disposition")).toBe(
        `inline; filename="receipt.png"; filename*=UTF-8''receipt.png`,
      );
      expect(served.headers.get("x-content-type-options")).toBe("nosniff");
      expect(Buffer.from(await served.arrayBuffer()).equals(png)).toBe(true);
      const url = `${server.url}${up.body.data.path}`;
      const sent = await call(
        "POST",
        `/api/widget/${site}/message`,
        { type: "file", content: { name: "receipt.png", url, type: "image/png" } },
        { "x-hugo-visitor": visitor.token },
      );
      expect(sent.status).toBe(200);
      const messages = (await api(`/v1/website/${site}/conversation/${visitor.session_id}/messages`)).data;
      expect(messages.at(-1)).toMatchObject({ type: "file", from: "user", content: { url } });
    });

    it("serves any other file as a download that never runs, whatever type was claimed", async () => {
      const visitor = await open();
      for (const [name, type] of [
        ["page.html", "text/html"],
        ["../../etc/pic.svg", "image/svg+xml"],
        ["data.json", "application/json"],
        ["weird", "application/x-weird+stuff; charset=x"],
      ] as const) {
        const up = await upload(visitor.token, name, "<script>alert(1)</script>", type);
        expect(up.status, name).toBe(200);
        const served = await fetch(`${server.url}${up.body.data.path}`);
        expect(served.headers.get("content-type"), name).toBe("application/octet-stream");
        expect(served.headers.get("content-disposition"), name).toMatch(/^attachment; filename="/);
        expect(served.headers.get("x-content-type-options")).toBe("nosniff");
        expect(served.headers.get("content-security-policy")).toContain("sandbox");
        expect(await served.text()).toBe("<script>alert(1)</script>");
      }
      expect((await upload(visitor.token, "bad", "x", "not a type")).body.reason).toBe(
        "unsupported_media_type",
      );
      const traversal = await upload(visitor.token, "../../etc/passwd", "x", "text/plain");
      expect(traversal.body.data.name).toBe("etc passwd");
      const unicode = await upload(visitor.token, "facture été.pdf", "%PDF", "application/pdf");
      expect(unicode.body.data).toMatchObject({ name: "facture été.pdf", type: "application/pdf" });
      const served = await fetch(`${server.url}${unicode.body.data.path}`);
      expect(served.headers.get("content-disposition")).toBe(
        `attachment; filename="facture _t_.pdf"; filename*=UTF-8''facture%20%C3%A9t%C3%A9.pdf`,
      );
    });

    it("refuses an empty, oversized or anonymous upload with a stable code, and an unknown file", async () => {
      const visitor = await open();
      expect(await upload(visitor.token, "empty.txt", "", "text/plain")).toMatchObject({
        status: 400,
        body: { reason: "invalid_body", data: { field: "body" } },
      });
      expect((await upload(visitor.token, "", "x", "text/plain")).body).toMatchObject({
        reason: "invalid_query",
      });
      const big = Buffer.alloc(10 * 1024 * 1024 + 1);
      expect(await upload(visitor.token, "big.bin", big, "application/octet-stream")).toMatchObject({
        status: 413,
        body: { reason: "payload_too_large" },
      });
      expect((await upload(undefined, "a.txt", "x", "text/plain")).status).toBe(401);
      const missing = await fetch(
        `${server.url}/api/widget/${site}/file/file_00000000-0000-4000-8000-000000000000/x.png`,
      );
      expect(missing.status).toBe(404);
      expect((await missing.json()).reason).toBe("file_not_found");
      // Another website's path to a file answers like an unknown one.
      const up = await upload(visitor.token, "a.txt", "x", "text/plain");
      const other = await server.hugo.services.websites.create({ name: "Other" });
      const elsewhere = await fetch(`${server.url}${up.body.data.path.replace(site, other.id)}`);
      expect(elsewhere.status).toBe(404);
    });
  });

  describe("the visitor's language", () => {
    it("stores the browser's language on a new conversation, and refuses a malformed one naming the field", async () => {
      const french = await open({ locale: "fr-FR" });
      const meta = async (sessionId: string) =>
        (await api(`/v1/website/${site}/conversation/${sessionId}`)).data.meta as { locale: string };
      expect((await meta(french.session_id)).locale).toBe("fr-FR");
      for (const locale of ["not a tag!", "f", "x".repeat(40), 42]) {
        const r = await call("POST", `/api/widget/${site}/session`, { locale });
        expect(r, String(locale)).toMatchObject({
          status: 400,
          body: { reason: "invalid_body", data: { field: "locale" } },
        });
      }
      // A resumed conversation without a language takes the browser's; one that has one keeps it.
      const unknown = await open();
      expect((await meta(unknown.session_id)).locale).toBe("");
      expect(await open({ token: unknown.token, locale: "de" })).toMatchObject({ resumed: true });
      expect((await meta(unknown.session_id)).locale).toBe("de");
      await open({ token: unknown.token, locale: "it" });
      expect((await meta(unknown.session_id)).locale).toBe("de");
      // The REST meta takes it too (an operator or a backend who knows better), checked the same way.
      const patch = (locale: unknown) =>
        fetch(`${server.url}/v1/website/${site}/conversation/${unknown.session_id}/meta`, {
          method: "PATCH",
          headers: {
            authorization: `Bearer ${server.seed.token.token}`,
            "content-type": "application/json",
          },
          body: JSON.stringify({ locale }),
        }).then(async (r) => ({ status: r.status, body: await r.json() }));
      expect((await patch("pt-BR")).status).toBe(200);
      expect((await meta(unknown.session_id)).locale).toBe("pt-BR");
      expect(await patch("pt BR")).toMatchObject({
        status: 400,
        body: { reason: "invalid_body", data: { field: "locale" } },
      });
    });

    it("answers a French visitor from French knowledge when the agent's locale is auto", async () => {
      const shop = await server.hugo.services.websites.create({ name: "Boutique" });
      expect((await server.hugo.services.agent.settings(shop.id)).locale).toBe("auto");
      const knowledge = server.hugo.services.knowledge;
      await knowledge.create(shop.id, {
        kind: "helpdesk",
        title: "Delivery",
        url: "https://help.boutique.example/en/delivery",
        locale: "en",
        format: "markdown",
        body: "# Delivery\n\nThe delivery time of an order is three business days, anywhere in France.",
      });
      await knowledge.create(shop.id, {
        kind: "helpdesk",
        title: "Livraison",
        url: "https://help.boutique.example/fr/livraison",
        locale: "fr",
        format: "markdown",
        body: "# Livraison\n\nLe délai de livraison d'une commande est de trois jours ouvrés, partout en France. Les commandes passées avant midi sont expédiées le jour même.",
      });
      const ask = async (locale: string | undefined, question: string) => {
        const visitor = (await call("POST", `/api/widget/${shop.id}/session`, { locale })).body.data as {
          session_id: string;
          token: string;
        };
        const sent = await call(
          "POST",
          `/api/widget/${shop.id}/message`,
          { type: "text", content: question },
          { "x-hugo-visitor": visitor.token },
        );
        expect(sent.status).toBe(200);
        for (let i = 0; i < 200; i++) {
          const messages = await server.hugo.stores.conversations.listMessages(shop.id, visitor.session_id, {
            limit: 20,
          });
          const answer = messages.find((m) => m.from === "operator" && m.automated && m.content);
          if (answer) return String(answer.content);
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error("the agent did not answer");
      };
      // Analysed in French (its stems, its stop words) and searched among the French articles.
      const question = "Quand est-ce que ma commande sera expédiée ?";
      const french = await ask("fr-FR", question);
      expect(french).toContain("Les commandes passées avant midi sont expédiées le jour même.");
      expect(french).toContain("Source: [Livraison](https://help.boutique.example/fr/livraison)");
      // The same question from a visitor whose language is unknown is read as English: not understood.
      expect(await ask(undefined, question)).toBe(
        "I am handing you over to our team: someone will answer you here shortly.",
      );
      const english = await ask("en-GB", "What is the delivery time of my order?");
      expect(english).toContain("The delivery time of an order is three business days");
      expect(english).toContain("Source: [Delivery](https://help.boutique.example/en/delivery)");
    });
  });

  describe("the website's allowed origins", () => {
    let shop: { id: string };
    const bearer = () => ({ authorization: `Bearer ${server.seed.token.token}` });
    const settings = (body: unknown) => call("PATCH", "/api/website", body, bearer());

    beforeAll(async () => {
      shop = await server.hugo.services.websites.create({ name: "Guarded shop" });
    });
    afterAll(() => settings({ widget: { allowed_origins: [] } }));

    it("validates and normalises the origins, naming the field of a bad one", async () => {
      const r = await settings({
        widget: {
          allowed_origins: ["https://Shop.Example:443/", "http://localhost:3000", "https://*.Example.org"],
        },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.data.widget).toEqual({
        allowed_origins: ["https://shop.example", "http://localhost:3000", "https://*.example.org"],
      });
      expect((await call("GET", "/api/website", undefined, bearer())).body.data.widget).toEqual(
        r.body.data.widget,
      );
      for (const [bad, index] of [
        [["https://shop.example/path"], 0],
        [["https://ok.example", "ftp://files.example"], 1],
        [["*"], 0],
        [["https://a.*.example"], 0],
        [["https://user:pw@shop.example"], 0],
      ] as const) {
        const refused = await settings({ widget: { allowed_origins: bad } });
        expect(refused, JSON.stringify(bad)).toMatchObject({
          status: 400,
          body: { reason: "invalid_body", data: { field: `widget.allowed_origins.${index}` } },
        });
      }
      expect((await settings({ widget: { allowed_origins: "https://shop.example" } })).status).toBe(400);
      await settings({ widget: { allowed_origins: [] } });
    });

    it("answers only the allowed origins, refusing the others with 403 origin_not_allowed", async () => {
      await server.hugo.services.websites.update(shop.id, {
        widget: { allowed_origins: ["https://shop.example", "https://*.shop.example"] },
      });
      const from = (origin: string | undefined, body: unknown = {}) =>
        call("POST", `/api/widget/${shop.id}/session`, body, origin === undefined ? {} : { origin });
      const allowed = await from("https://shop.example");
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get("access-control-allow-origin")).toBe("https://shop.example");
      expect(allowed.headers.get("vary")).toContain("Origin");
      expect((await from("https://eu.shop.example")).status).toBe(200);
      for (const origin of [
        "https://evil.example",
        "http://shop.example",
        "https://shop.example:8443",
        "null",
      ]) {
        const refused = await from(origin);
        expect(refused, origin).toMatchObject({ status: 403, body: { reason: "origin_not_allowed" } });
        expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      }
      // A server (no Origin header) is not a browser page: allowed.
      const visitor = (await fetch(`${server.url}/api/widget/${shop.id}/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }).then((r) => r.json())) as { data: { token: string } };
      // Every route of the visitor API checks, not only the session.
      const message = await call(
        "POST",
        `/api/widget/${shop.id}/message`,
        { type: "text", content: "hi" },
        { origin: "https://evil.example", "x-hugo-visitor": visitor.data.token },
      );
      expect(message).toMatchObject({ status: 403, body: { reason: "origin_not_allowed" } });
      const search = await call("GET", `/api/widget/${shop.id}/helpdesk/search?q=x`, undefined, {
        origin: "https://evil.example",
        "x-hugo-visitor": visitor.data.token,
      });
      expect(search.status).toBe(403);
      // Preflights: the allowed origin gets its CORS answer, another none.
      const preflight = (origin: string) =>
        fetch(`${server.url}/api/widget/${shop.id}/message`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-hugo-visitor",
          },
        });
      const ok = await preflight("https://shop.example");
      expect(ok.status).toBe(204);
      expect(ok.headers.get("access-control-allow-origin")).toBe("https://shop.example");
      const no = await preflight("https://evil.example");
      expect(no.status).toBe(403);
      expect(no.headers.get("access-control-allow-origin")).toBeNull();
      // Other websites are not affected; an emptied list allows any origin again.
      expect(
        (await call("POST", `/api/widget/${site}/session`, {}, { origin: "https://evil.example" })).status,
      ).toBe(200);
      await server.hugo.services.websites.update(shop.id, { widget: { allowed_origins: [] } });
      const any = await from("https://evil.example");
      expect(any.status).toBe(200);
      expect(any.headers.get("access-control-allow-origin")).toBe("*");
    });
  });

  it("serves l.js, the per-website loader and the widget bundle with ETags", async () => {
    const loader = await fetch(`${server.url}/l.js`);
    expect(loader.status).toBe(200);
    expect(loader.headers.get("content-type")).toContain("javascript");
    const etag = loader.headers.get("etag")!;
    const body = await loader.text();
    const widgetPath = /\/widget\/[A-Za-z0-9_-]+\.js/.exec(body)?.[0];
    expect(widgetPath).toBeDefined();
    expect((await fetch(`${server.url}/l.js`, { headers: { "if-none-match": etag } })).status).toBe(304);
    const perSite = await fetch(`${server.url}/l/${site}.js`);
    expect(await perSite.text()).toContain(`window.CRISP_WEBSITE_ID=window.CRISP_WEBSITE_ID||"${site}"`);
    expect((await fetch(`${server.url}/l/nope.js`)).status).toBe(404);
    const widget = await fetch(`${server.url}${widgetPath}`);
    expect(widget.status).toBe(200);
    expect(widget.headers.get("cache-control")).toContain("immutable");
  });
});

describe("the widget's rate limits from the environment", () => {
  let server: RunningHugo;
  beforeAll(async () => {
    server = await startHugo("sqlite", {
      WIDGET_SESSIONS_PER_IP_PER_MINUTE: "3",
      WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE: "2",
      WIDGET_UPDATES_PER_VISITOR_PER_MINUTE: "0",
    });
  });
  afterAll(() => server?.stop());
  const call = async (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}/api/widget/${server.seed.websiteId}${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      body: await response.json(),
    };
  };

  it("refuses a limit that is not a whole number of requests, naming the variable", () => {
    for (const value of ["lots", "-1", "2.5", "10000001"]) {
      expect(() => loadConfig({ WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE: value }), value).toThrow(ConfigError);
      expect(() => loadConfig({ WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE: value })).toThrow(
        /WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE/,
      );
    }
    expect(loadConfig({}).widgetRateLimits).toEqual({
      sessionsPerIpPerMinute: 60,
      messagesPerVisitorPerMinute: 60,
      updatesPerVisitorPerMinute: 120,
      scenarioRunsPerIpPerMinute: 60,
      scenarioRunsPerVisitorPerMinute: 10,
      helpdeskSearchesPerIpPerMinute: 300,
      helpdeskSearchesPerVisitorPerMinute: 60,
      uploadsPerVisitorPerMinute: 10,
      uploadMaxBytes: 10 * 1024 * 1024,
    });
    expect(() => loadConfig({ WIDGET_UPLOAD_MAX_BYTES: "10" })).toThrow(/WIDGET_UPLOAD_MAX_BYTES/);
    expect(
      loadConfig({ WIDGET_SEARCHES_PER_IP_PER_MINUTE: "0" }).widgetRateLimits.helpdeskSearchesPerIpPerMinute,
    ).toBe(0);
  });

  it("applies the configured limits, and none where a limit is 0", async () => {
    const sessions = [];
    for (let i = 0; i < 3; i++) sessions.push(await call("POST", "/session", {}));
    expect(sessions.map((r) => r.status)).toEqual([200, 200, 200]);
    const fourth = await call("POST", "/session", {});
    expect(fourth).toMatchObject({ status: 429, body: { reason: "rate_limited" } });
    expect(Number(fourth.retryAfter)).toBeGreaterThan(0);

    const visitor = { "x-hugo-visitor": sessions[0]!.body.data.token as string };
    const say = (content: string) => call("POST", "/message", { type: "text", content }, visitor);
    expect((await say("one")).status).toBe(200);
    expect((await say("two")).status).toBe(200);
    expect(await say("three")).toMatchObject({ status: 429, body: { reason: "rate_limited" } });

    // Off: more visitor updates than the default budget (120 a minute) all pass.
    const statuses = new Set<number>();
    for (let i = 0; i < 130; i++)
      statuses.add((await call("PATCH", "/visitor", { data: { step: i } }, visitor)).status);
    expect([...statuses]).toEqual([200]);
  });
});
