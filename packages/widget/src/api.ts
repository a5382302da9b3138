import type {
  WidgetAnswered,
  WidgetHelpdeskResults,
  WidgetMessageSend,
  WidgetMessageSent,
  WidgetReadDone,
  WidgetSession,
  WidgetSessionCreate,
  WidgetUploaded,
  WidgetVisitorUpdate,
} from "@hugo/protocol";

/** A refusal from Hugo (`reason` from docs/ERRORS.md); a network failure is a TypeError instead. */
export class WidgetApiError extends Error {
  readonly reason: string;
  readonly status: number;
  constructor(reason: string, message: string, status: number) {
    super(message);
    this.name = "WidgetApiError";
    this.reason = reason;
    this.status = status;
  }
}

/** The visitor API (`/api/widget/{website_id}/…`), called cross-origin with the credential in a header. */
export class VisitorApi {
  readonly #base: string;
  token: string | undefined;

  constructor(origin: string, websiteId: string) {
    this.#base = `${origin}/api/widget/${encodeURIComponent(websiteId)}`;
  }

  openSession(input: WidgetSessionCreate): Promise<WidgetSession> {
    return this.#call("POST", "/session", input);
  }

  sendMessage(input: WidgetMessageSend): Promise<WidgetMessageSent> {
    return this.#call("POST", "/message", input);
  }

  /** Answers a picker (a choice's value) or fills a field (its value). */
  answer(fingerprint: number, value: string): Promise<WidgetAnswered> {
    return this.#call("POST", `/message/${fingerprint}/answer`, { value });
  }

  /** Stores a file the visitor sends; its URL then goes in a `file` message. */
  upload(file: File): Promise<WidgetUploaded> {
    return this.#call("POST", `/file?${new URLSearchParams({ name: file.name || "file" })}`, file);
  }

  /** Read receipts: every operator, bot and agent message of the conversation is read. */
  markRead(): Promise<WidgetReadDone> {
    return this.#call("POST", "/read", {});
  }

  updateVisitor(input: WidgetVisitorUpdate): Promise<unknown> {
    return this.#call("PATCH", "/visitor", input);
  }

  runScenario(workflowId: string, variables?: Record<string, unknown>): Promise<unknown> {
    return this.#call(
      "POST",
      `/scenario/${encodeURIComponent(workflowId)}/run`,
      variables ? { variables } : {},
    );
  }

  /** The help-desk search: the website's help articles and answers, best first. */
  searchHelpdesk(q: string, locale?: string): Promise<WidgetHelpdeskResults> {
    const query = new URLSearchParams({ q });
    if (locale) query.set("locale", locale);
    return this.#call("GET", `/helpdesk/search?${query}`, undefined);
  }

  async #call<T>(method: string, path: string, body: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    // A file goes as itself, with its own type; everything else as JSON.
    const file = body instanceof Blob;
    if (body !== undefined)
      headers["content-type"] = file ? body.type || "application/octet-stream" : "application/json";
    if (this.token) headers["x-hugo-visitor"] = this.token;
    const response = await fetch(this.#base + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: file ? body : JSON.stringify(body) }),
      credentials: "omit",
      mode: "cors",
    });
    let envelope: { error?: boolean; reason?: string; data?: { message?: string } } | undefined;
    try {
      envelope = await response.json();
    } catch {
      envelope = undefined;
    }
    if (!response.ok || !envelope || envelope.error) {
      throw new WidgetApiError(
        envelope?.reason ?? "unavailable",
        envelope?.data?.message ?? `HTTP ${response.status}`,
        response.status,
      );
    }
    return envelope.data as T;
  }
}
