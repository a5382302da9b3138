import {
  AUTOMATED_INBOX,
  type FieldType,
  type TriggerResult,
  type Variables,
  type WidgetAnswered,
  type WidgetHelpdeskQuery,
  type WidgetHelpdeskResults,
  type WidgetMessageSend,
  type WidgetMessageSent,
  type WidgetRead,
  type WidgetReadDone,
  type WidgetSession,
  type WidgetSessionCreate,
  type WidgetUploaded,
  type WidgetVisitorUpdate,
} from "@hugo/protocol";
import type { ConversationService } from "./conversations.ts";
import { hmacHex } from "./crypto.ts";
import { AppError } from "./errors.ts";
import { type KnowledgeSearch, searchHelpdesk } from "./helpdesk-search.ts";
import { newUuid } from "./ids.ts";
import type { Stores } from "./ports.ts";
import {
  mintVisitorCredential,
  type VisitorPrincipal,
  verifyVisitorCredential,
} from "./visitor-credentials.ts";

/** The one thing the visitor API needs from the agent: where a new visitor conversation goes. */
export type ActivationOf = (websiteId: string) => Promise<"answer" | "route">;

/**
 * The type of a field a workflow sent (email, phone, number…), from its question id; undefined when
 * the field was not sent by a workflow's field block (then only its length and emptiness are checked).
 */
export type FieldTypeOf = (websiteId: string, fieldId: string) => Promise<FieldType | undefined>;

/** Checks a field answer against its type (the workflow engine's own check). */
export type ValidateField = (
  type: FieldType,
  raw: string,
) => { ok: true; value: string | number } | { ok: false; reason: string };

/** Starts a browser-startable workflow (WorkflowService.trigger with source "widget"). */
export type StartWorkflow = (
  websiteId: string,
  workflowId: string,
  input: { session_id: string; variables?: Variables | undefined },
) => Promise<TriggerResult>;

type PickerContentShape = {
  id: string;
  choices: { value: string; label: string; selected: boolean }[];
} & Record<string, unknown>;
type FieldContentShape = { id: string; value?: string } & Record<string, unknown>;

/**
 * Whether a page of `origin` (a request's `Origin` header) may use a website's widget API, given its
 * allow-list (normalised origins, `https://*.example.com` for the subdomains; empty: any origin).
 */
export function originAllowed(allowed: readonly string[], origin: string): boolean {
  if (allowed.length === 0) return true;
  if (!URL.canParse(origin)) return false; // "null" (a sandboxed frame, a file) is no origin of the list
  const url = new URL(origin);
  const normalised = url.origin;
  return allowed.some((entry) => {
    if (entry === normalised) return true;
    const wildcard = /^(https?:)\/\/\*(\.[^:/]+)(?::(\d+))?$/.exec(entry);
    if (!wildcard) return false;
    const [, scheme, suffix, port = ""] = wildcard;
    return (
      url.protocol === scheme &&
      url.port === port &&
      url.hostname.endsWith(suffix!) &&
      url.hostname.length > suffix!.length
    );
  });
}

/** Raster images are shown where they are; every other file is only downloaded (never run as a page). */
const INLINE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"]);

/** A stored file, as the download route serves it. */
export interface ServedFile {
  name: string;
  /** The type to serve: the stored one for inline images, `application/octet-stream` for the rest. */
  type: string;
  /** Shown in place (an image) rather than downloaded. */
  inline: boolean;
  data: Uint8Array;
}

/** A file name without paths or control characters; never empty. */
export function cleanFileName(name: string): string {
  const clean = name
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\u0000-\u001f\u007f/\\]+/g, " ")
    .replace(/\s+/g, " ")
    .replace(/^[.\s]+/, "")
    .trim()
    .slice(0, 255);
  return clean || "file";
}

// A bound conversation that was removed frees its token id for the next generation of the key (the
// key-value store only sets keys once); past this many removals the token id stops resuming.
const MAX_TOKEN_GENERATIONS = 32;

/**
 * The widget's side of a conversation: public, keyed by website id, authenticated by the visitor
 * credential only. A credential reaches exactly one conversation of one website; another
 * website's credential answers like an unknown conversation (404), so existence never leaks.
 */
export class VisitorSessionService {
  readonly #stores: Stores;
  readonly #conversations: ConversationService;
  readonly #secret: string;
  readonly #activation: ActivationOf;
  readonly #startWorkflow: StartWorkflow;
  readonly #fieldTypeOf: FieldTypeOf | undefined;
  readonly #validateField: ValidateField | undefined;
  readonly #searchKnowledge: KnowledgeSearch | undefined;

  constructor(deps: {
    stores: Stores;
    conversations: ConversationService;
    secret: string;
    activation: ActivationOf;
    startWorkflow: StartWorkflow;
    fieldTypeOf?: FieldTypeOf;
    validateField?: ValidateField;
    /** The knowledge base's search, for the help-desk search; without it the search finds nothing. */
    searchKnowledge?: KnowledgeSearch;
  }) {
    this.#searchKnowledge = deps.searchKnowledge;
    this.#fieldTypeOf = deps.fieldTypeOf;
    this.#validateField = deps.validateField;
    this.#stores = deps.stores;
    this.#conversations = deps.conversations;
    this.#secret = deps.secret;
    this.#activation = deps.activation;
    this.#startWorkflow = deps.startWorkflow;
  }

  /**
   * Creates or resumes the visitor's conversation. With `token_id` (CRISP_TOKEN_ID) the same id
   * always gets the same conversation, on any device; otherwise a valid stored credential keeps
   * its conversation; otherwise a new conversation starts, in the automated inbox when the agent
   * answers new conversations ("answer") and in the main inbox when it routes them ("route").
   */
  async open(websiteId: string, input: WidgetSessionCreate): Promise<WidgetSession> {
    await this.#website(websiteId);
    const stored = input.token ? verifyVisitorCredential(this.#secret, input.token) : undefined;
    const storedSession =
      stored?.websiteId === websiteId && (await this.#exists(websiteId, stored.sessionId))
        ? stored.sessionId
        : undefined;
    const session =
      input.token_id !== undefined
        ? await this.#openBound(websiteId, input.token_id, storedSession, input)
        : storedSession
          ? this.#session(websiteId, storedSession, true)
          : this.#session(websiteId, await this.#create(websiteId, input), false);
    if (session.resumed && input.locale) await this.#learnLocale(websiteId, session.session_id, input.locale);
    return session;
  }

  /** A resumed conversation without a language (older, or started by REST) takes the browser's. */
  async #learnLocale(websiteId: string, sessionId: string, locale: string): Promise<void> {
    const conversation = await this.#stores.conversations.find(websiteId, sessionId);
    if (conversation && conversation.meta.locale === "") {
      await this.#conversations.updateMeta(websiteId, sessionId, { locale });
    }
  }

  /** The website's widget origin allow-list (empty: any origin); undefined when there is no such website. */
  allowedOrigins(websiteId: string): Promise<string[] | undefined> {
    return this.#stores.websites.findWidgetOrigins(websiteId);
  }

  /** Checks a visitor credential against the website in the path. */
  authenticate(websiteId: string, credential: string | undefined): VisitorPrincipal {
    if (!credential) {
      throw new AppError("unauthorized", "Send the visitor credential in the X-Hugo-Visitor header.");
    }
    const principal = verifyVisitorCredential(this.#secret, credential);
    if (!principal) throw new AppError("unauthorized", "The visitor credential is malformed or forged.");
    if (principal.websiteId !== websiteId) {
      throw new AppError("session_not_found", `No conversation ${principal.sessionId} in this website.`);
    }
    return principal;
  }

  /**
   * A visitor message. The widget picks the fingerprint, so a retry of a message whose answer was
   * lost (the visitor went offline) returns the message already stored instead of a second copy.
   */
  async sendMessage(visitor: VisitorPrincipal, input: WidgetMessageSend): Promise<WidgetMessageSent> {
    const { websiteId, sessionId } = visitor;
    try {
      const message = await this.#conversations.sendMessage(websiteId, sessionId, {
        type: input.type,
        content: input.content,
        from: "user",
        origin: "chat",
        ...(input.fingerprint !== undefined ? { fingerprint: input.fingerprint } : {}),
      } as Parameters<ConversationService["sendMessage"]>[2]);
      return { fingerprint: message.fingerprint, timestamp: message.timestamp };
    } catch (error) {
      if (!(error instanceof AppError) || error.reason !== "fingerprint_conflict" || !input.fingerprint)
        throw error;
      const existing = await this.#conversations.getMessage(websiteId, sessionId, input.fingerprint);
      const same =
        existing.from === "user" &&
        existing.type === input.type &&
        JSON.stringify(existing.content) === JSON.stringify(input.content);
      if (!same) throw error;
      return { fingerprint: existing.fingerprint, timestamp: existing.timestamp };
    }
  }

  /** The `set` rows: contact fields, data and segments in one meta change, then custom events in order. */
  async update(visitor: VisitorPrincipal, input: WidgetVisitorUpdate): Promise<void> {
    const { websiteId, sessionId } = visitor;
    const { events, segments, ...fields } = input;
    const patch: Parameters<ConversationService["updateMeta"]>[2] = {};
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) (patch as Record<string, unknown>)[key] = value;
    }
    if (segments) {
      const current = segments.overwrite
        ? []
        : (await this.#conversations.get(websiteId, sessionId)).meta.segments;
      const merged = [...new Set([...current, ...segments.segments])];
      if (merged.length > 100) {
        throw new AppError("invalid_body", "A conversation holds at most 100 segments.", {
          field: "segments.segments",
        });
      }
      patch.segments = merged;
    }
    if (Object.keys(patch).length > 0) await this.#conversations.updateMeta(websiteId, sessionId, patch);
    else await this.#conversations.get(websiteId, sessionId);
    for (const event of events ?? []) {
      await this.#conversations.recordEvent(websiteId, sessionId, "session:event", {
        name: event.name,
        data: event.data ?? {},
        ...(event.color ? { color: event.color } : {}),
      });
    }
  }

  /**
   * The visitor answers a picker (one choice's value) or fills a field, in a message an operator, the
   * bot or the agent sent to this conversation. Only the selection or the value changes (never the
   * text or the choices), through `ConversationService.updateMessage` — the `message:updated` event
   * resumes a workflow waiting for this answer exactly as a REST update does. A picker is answered
   * once (the same choice again is a no-op); a field may be filled again (a workflow that found the
   * value invalid asks again on the same field).
   */
  async answer(visitor: VisitorPrincipal, fingerprint: number, value: string): Promise<WidgetAnswered> {
    const { websiteId, sessionId } = visitor;
    const message = await this.#conversations.getMessage(websiteId, sessionId, fingerprint);
    // A stealth message is invisible to the visitor: it does not exist for them.
    if (message.stealth === true) {
      throw new AppError("message_not_found", `No message ${fingerprint} in this conversation.`);
    }
    if (message.from !== "operator" || (message.type !== "picker" && message.type !== "field")) {
      throw new AppError("invalid_body", "Only a picker or a field sent to the visitor can be answered.", {
        field: "fingerprint",
      });
    }
    const answered = (content: unknown): WidgetAnswered => ({
      fingerprint: message.fingerprint,
      type: message.type as "picker" | "field",
      content,
    });
    if (message.type === "picker") {
      const content = message.content as PickerContentShape;
      const choice = content.choices.find((c) => c.value === value);
      if (!choice) {
        throw new AppError(
          "invalid_body",
          `value: "${value.slice(0, 100)}" is not one of the picker's choices.`,
          {
            field: "value",
          },
        );
      }
      const current = content.choices.find((c) => c.selected);
      if (current?.value === value) return answered(content);
      if (current) {
        throw new AppError("invalid_body", "value: this picker is already answered.", { field: "value" });
      }
      const next = {
        ...content,
        choices: content.choices.map((c) => ({ ...c, selected: c.value === value })),
      };
      return answered(
        (await this.#conversations.updateMessage(websiteId, sessionId, fingerprint, next)).content,
      );
    }
    const content = message.content as FieldContentShape;
    const type = this.#fieldTypeOf ? await this.#fieldTypeOf(websiteId, content.id) : undefined;
    if (type && this.#validateField) {
      // The engine's own check, so the visitor learns at once; what is stored is what they typed.
      const checked = this.#validateField(type, value);
      if (!checked.ok) throw new AppError("invalid_body", `value: ${checked.reason}.`, { field: "value" });
    }
    if (content.value === value) return answered(content);
    const next = { ...content, value };
    return answered(
      (await this.#conversations.updateMessage(websiteId, sessionId, fingerprint, next)).content,
    );
  }

  /**
   * Read receipts: the operator's, bot's and agent's messages the visitor has seen become read (the
   * same change as Crisp's `PATCH …/read` from the user). Nothing unread: nothing changes, no event.
   */
  async markRead(visitor: VisitorPrincipal, input: WidgetRead): Promise<WidgetReadDone> {
    const { websiteId, sessionId } = visitor;
    const conversation = await this.#conversations.get(websiteId, sessionId);
    if (conversation.unread.visitor === 0) return { fingerprints: [] };
    return {
      fingerprints: await this.#conversations.markRead(websiteId, sessionId, "user", input.fingerprints),
    };
  }

  /**
   * A file the visitor sends (the widget then sends a `file` message with its URL). Kept in the
   * database with its conversation; its id is its capability (`file_<uuid>`), so operators and the
   * visitor open it without a credential. The type is kept when it is a well-formed media type.
   */
  async upload(
    visitor: VisitorPrincipal,
    input: { name: string; type: string | undefined; data: Uint8Array | undefined },
  ): Promise<WidgetUploaded> {
    const { websiteId, sessionId } = visitor;
    if (!input.data || input.data.byteLength === 0) {
      throw new AppError("invalid_body", "Send the file as the request body (it is empty).", {
        field: "body",
      });
    }
    await this.#conversations.get(websiteId, sessionId);
    const raw = (input.type ?? "").split(";")[0]!.trim().toLowerCase();
    const type = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(raw)
      ? raw
      : "application/octet-stream";
    const file = {
      id: `file_${newUuid()}`,
      website_id: websiteId,
      session_id: sessionId,
      name: cleanFileName(input.name),
      type,
      size: input.data.byteLength,
      created_at: Date.now(),
    };
    await this.#stores.files.create(file, input.data);
    return {
      file_id: file.id,
      name: file.name,
      type: file.type,
      size: file.size,
      path: `/api/widget/${websiteId}/file/${file.id}/${encodeURIComponent(file.name)}`,
    };
  }

  /** A file sent from the widget, to serve: inline for raster images, as a download otherwise. */
  async file(websiteId: string, fileId: string): Promise<ServedFile> {
    const found = await this.#stores.files.find(websiteId, fileId);
    if (!found) throw new AppError("file_not_found", `No file ${fileId} in this website.`);
    const inline = INLINE_TYPES.has(found.type);
    return {
      name: found.name,
      type: inline ? found.type : "application/octet-stream",
      inline,
      data: found.data,
    };
  }

  /** `bot:scenario:run`: the REST trigger's engine path, with source "widget" (the browser switch applies). */
  runScenario(visitor: VisitorPrincipal, workflowId: string, variables: Variables | undefined) {
    return this.#startWorkflow(visitor.websiteId, workflowId, { session_id: visitor.sessionId, variables });
  }

  /** `helpdesk:query`: the visitor's website's help articles and answers (see searchHelpdesk). */
  async searchHelpdesk(
    visitor: VisitorPrincipal,
    query: WidgetHelpdeskQuery,
  ): Promise<WidgetHelpdeskResults> {
    if (!this.#searchKnowledge) return { query: query.q, results: [] };
    return searchHelpdesk(this.#searchKnowledge, visitor.websiteId, query);
  }

  async #openBound(
    websiteId: string,
    tokenId: string,
    storedSession: string | undefined,
    input: WidgetSessionCreate,
  ): Promise<WidgetSession> {
    // Keyed by an HMAC of the token id: the website's user ids are not stored in clear.
    const base = `widget:token:${websiteId}:${hmacHex(this.#secret, `token_id:${tokenId}`)}`;
    for (let generation = 0; generation < MAX_TOKEN_GENERATIONS; generation++) {
      const key = generation === 0 ? base : `${base}:${generation}`;
      const bound = await this.#stores.kv.get(key);
      if (bound) {
        if (await this.#exists(websiteId, bound)) return this.#session(websiteId, bound, true);
        continue;
      }
      // Unbound: the conversation this browser already has becomes the token id's, or a new one.
      const candidate = storedSession ?? (await this.#create(websiteId, input));
      const winner = await this.#stores.kv.setIfAbsent(key, candidate);
      return this.#session(websiteId, winner, winner !== candidate || storedSession !== undefined);
    }
    return this.#session(websiteId, storedSession ?? (await this.#create(websiteId, input)), !!storedSession);
  }

  async #create(websiteId: string, input: WidgetSessionCreate): Promise<string> {
    const activation = await this.#activation(websiteId);
    const conversation = await this.#conversations.create(websiteId, {
      inbox_id: activation === "answer" ? AUTOMATED_INBOX : null,
      meta: { origin: "chat", ...(input.locale ? { locale: input.locale } : {}) },
    });
    // The page the chat started on, as the widget's "URL changed" reports it (workflow conditions read it).
    const page = input.page_url;
    if (page && /^https?:\/\//i.test(page) && URL.canParse(page)) {
      await this.#conversations.visitPage(websiteId, conversation.session_id, page);
    }
    return conversation.session_id;
  }

  #session(websiteId: string, sessionId: string, resumed: boolean): WidgetSession {
    return {
      website_id: websiteId,
      session_id: sessionId,
      token: mintVisitorCredential(this.#secret, websiteId, sessionId),
      resumed,
    };
  }

  async #exists(websiteId: string, sessionId: string): Promise<boolean> {
    return (await this.#stores.conversations.find(websiteId, sessionId)) !== undefined;
  }

  async #website(websiteId: string): Promise<void> {
    if (!(await this.#stores.websites.find(websiteId))) {
      throw new AppError("website_not_found", `No website ${websiteId}.`);
    }
  }
}
