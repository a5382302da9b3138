import type {
  ComposeFrame,
  EventFrame,
  WidgetHelpdeskResult,
  WidgetSession,
  WidgetVisitorUpdate,
} from "@hugo/protocol";
import { VisitorApi, WidgetApiError } from "./api.ts";
import { Realtime } from "./realtime.ts";

/** Who wrote a message, as the widget shows it. */
export type Author = "visitor" | "operator" | "bot" | "agent";

export interface WidgetMessage {
  fingerprint: number;
  author: Author;
  type: string;
  /** A plain-text excerpt (for the `message:*` events and unknown types). */
  text: string;
  /** The message's content as Hugo sent it (a string, or the picker/field/file/… object); rendered by ui. */
  content: unknown;
  nickname: string;
  /** Not yet accepted by Hugo (typed offline, waiting to be sent). */
  pending: boolean;
}

export interface RuntimeOptions {
  origin: string;
  websiteId: string;
  /**
   * `CRISP_TOKEN_ID` as the page holds it now: read at load and again at each `session:reset` (a
   * site sets it at login or clears it at logout, then resets, as Crisp documents).
   */
  tokenId: () => string | undefined;
  runtimeConfig: Record<string, unknown>;
  cookieDomain: string | undefined;
  /** Seconds. */
  cookieExpire: number | undefined;
  readyTrigger: (() => void) | undefined;
}

type Callback = (...args: unknown[]) => unknown;

/** The panel's help-desk search view (`helpdesk:search`, `helpdesk:query`). */
export interface HelpdeskState {
  query: string;
  /** The last answer, null before any search (or after the field was emptied). */
  results: WidgetHelpdeskResult[] | null;
  busy: boolean;
  error: string;
  /** The source of the URL-less result shown in full. */
  expanded: string | null;
}

/** Only http(s) URLs become links (a `javascript:` URL in a source stays text). */
export const safeUrl = (url: string | null): string | null => (url && /^https?:\/\//i.test(url) ? url : null);

const EVENTS = new Set([
  "session:loaded",
  "chat:initiated",
  "chat:opened",
  "chat:closed",
  "message:sent",
  "message:received",
  "message:compose:sent",
  "message:compose:received",
  "user:email:changed",
  "user:phone:changed",
  "user:nickname:changed",
  "user:avatar:changed",
  "website:availability:changed",
  "helpdesk:queried",
]);
const CONFIGS = new Set([
  "container:index",
  "color:theme",
  "hide:on:away",
  "hide:on:mobile",
  "position:reverse",
  "availability:tooltip",
  "hide:vacation",
  "sound:mute",
  "show:operator:count",
]);
/** Rows of the contract that this increment accepts but does not implement yet (one warning each). */
const NOT_YET = new Set(["trigger:run"]);
const DEFAULT_COOKIE_EXPIRE_S = 60 * 60 * 24 * 183;

class CommandError extends Error {}

type Deferred<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void };
/** Promise.withResolvers, which Safari has only since 17.4. */
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const isString = (v: unknown): v is string => typeof v === "string";
const isArray = Array.isArray as (v: unknown) => v is unknown[];
const fail = (message: string): never => {
  throw new CommandError(message);
};

function excerpt(type: string, content: unknown): string {
  if (typeof content === "string") return content;
  const c = (content ?? {}) as Record<string, unknown>;
  if (type === "file") return `[file] ${String(c.name ?? "")}`;
  if (typeof c.text === "string") return c.text;
  return `[${type}]`;
}

function authorOf(message: Record<string, unknown>): Author {
  if (message.from === "user") return "visitor";
  const user = (message.user ?? {}) as { user_id?: string };
  if (user.user_id === "hugo:agent") return "agent";
  if (message.automated === true || user.user_id === "hugo:workflow") return "bot";
  return "operator";
}

/** A client-chosen fingerprint: microseconds plus noise, like the server's, so retries are idempotent. */
const newFingerprint = () => Date.now() * 1000 + Math.floor(Math.random() * 1000);

/**
 * A language tag Hugo accepts, from `CRISP_RUNTIME_CONFIG.locale` or `navigator.language`: the
 * language and its region/script subtags ("fr-CA"), without extensions ("en-US-u-ca-…" → "en-US").
 */
export function languageTag(value: unknown): string | undefined {
  if (!isString(value)) return undefined;
  const [language, ...rest] = value.trim().replace(/_/g, "-").split("-");
  if (!language || !/^[a-zA-Z]{2,3}$/.test(language)) return undefined;
  let tag = language;
  for (const subtag of rest) {
    if (!/^[a-zA-Z0-9]{2,8}$/.test(subtag) || tag.length + subtag.length >= 35) break;
    tag += `-${subtag}`;
  }
  return tag;
}

/** A visitor message not yet accepted by Hugo, as kept in localStorage across reloads. */
interface Unsent {
  fingerprint: number;
  type: string;
  content: unknown;
  /** The conversation it was typed in; null when typed before the session was known. */
  session: string | null;
}

/**
 * The `$crisp` command runtime (contract §2). `push` runs a command at once: local rows change the
 * widget synchronously (so `get`/`is` answer at once), rows that reach Hugo go through one ordered
 * queue that waits for the session. In safe mode a bad command is logged, never thrown.
 */
export class CrispRuntime {
  readonly options: RuntimeOptions;
  readonly api: VisitorApi;
  // --- state read by the UI ---------------------------------------------------------------------
  sessionId: string | null = null;
  opened = false;
  visible = true;
  online = false;
  operatorTyping = false;
  unread = 0;
  composerText = "";
  messages: WidgetMessage[] = [];
  readonly config = new Map<string, unknown>();
  notice = "";
  /** What the open panel shows: the conversation or the help-desk search. */
  view: "chat" | "helpdesk" = "chat";
  readonly helpdesk: HelpdeskState = { query: "", results: null, busy: false, error: "", expanded: null };
  #searches = 0;
  /** Every result seen, for `helpdesk:article:open` (by URL slug or title). */
  readonly #articles = new Map<string, WidgetHelpdeskResult>();
  /** Set by the UI: a live message from an operator, the bot or the agent arrived (sound). */
  onIncoming: (() => void) | undefined;
  // -------------------------------------------------------------------------------------------------
  readonly #user: Record<string, unknown> = {
    email: null,
    phone: null,
    nickname: null,
    avatar: null,
    company: null,
  };
  readonly #data = new Map<string, string | number | boolean>();
  #segments: string[] = [];
  readonly #handlers = new Map<string, Callback>();
  readonly #warned = new Set<string>();
  #safe = false;
  #initiated = false;
  #realtime: Realtime | undefined;
  /** Server work, in command order, after the session exists. */
  #queue: Promise<unknown>;
  #session: Deferred<WidgetSession>;
  readonly #outbox: { fingerprint: number; type: string; content: unknown; done: () => void }[] = [];
  #flushing = false;
  /** An operator, bot or agent message arrived that Hugo has not been told the visitor saw. */
  #unacknowledged = false;
  #ackTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  #listeners: (() => void)[] = [];
  #renderScheduled = false;

  constructor(options: RuntimeOptions) {
    this.options = options;
    this.api = new VisitorApi(options.origin, options.websiteId);
    this.#session = deferred<WidgetSession>();
    this.#queue = this.#session.promise.catch(() => undefined);
  }

  // --- the public object that replaces the `$crisp` array ------------------------------------------

  /** The object `window.$crisp` becomes: `push`, `get`, `is`, `do`, and the other forms as methods. */
  facade() {
    return {
      push: (command: unknown) => this.push(command),
      get: (key: unknown, sub?: unknown) => this.#guard(() => this.get(key, sub)),
      is: (state: unknown) => this.#guard(() => this.is(state)),
      do: (action: unknown, args?: unknown) =>
        this.push(args === undefined ? ["do", action] : ["do", action, args]),
      set: (key: unknown, args?: unknown) => this.push(["set", key, args]),
      on: (event: unknown, callback: unknown) => this.push(["on", event, callback]),
      off: (event: unknown) => this.push(["off", event]),
      config: (key: unknown, value?: unknown) => this.push(["config", key, value]),
      safe: (on?: unknown) => this.push(["safe", on ?? true]),
    };
  }

  push(command: unknown): void {
    this.#guard(() => this.#run(command));
  }

  /** Runs the commands queued before load, in order; `safe` anywhere in the queue applies from the start. */
  replay(queue: unknown[]): void {
    if (queue.some((c) => isArray(c) && c[0] === "safe" && c[1] !== false)) this.#safe = true;
    for (const command of queue) {
      // A bad queued command must not stop the ones after it, nor surface as an error of the page.
      try {
        this.push(command);
      } catch (error) {
        console.error(error);
      }
    }
  }

  subscribe(listener: () => void): void {
    this.#listeners.push(listener);
  }

  // --- get / is ------------------------------------------------------------------------------------

  get(key: unknown, sub?: unknown): unknown {
    switch (key) {
      case "session:identifier":
        return this.sessionId;
      case "session:data":
        if (sub === undefined) return Object.fromEntries(this.#data);
        return this.#data.get(String(sub)) ?? null;
      case "chat:unread:count":
        return this.unread;
      case "message:text":
        return this.composerText;
      case "user:email":
      case "user:phone":
      case "user:nickname":
      case "user:avatar":
      case "user:company":
        return this.#user[key.slice(5)] ?? null;
      default:
        this.#unknown(`get ${String(key)}`);
        return undefined;
    }
  }

  is(state: unknown): boolean {
    switch (state) {
      case "chat:opened":
        return this.opened;
      case "chat:closed":
        return !this.opened;
      case "chat:visible":
        return this.visible;
      case "chat:hidden":
        return !this.visible;
      case "chat:large":
        return this.large;
      case "chat:small":
        return !this.large;
      case "session:ongoing":
        return this.messages.some((m) => !m.pending);
      case "website:available":
        return true;
      default:
        this.#unknown(`is ${String(state)}`);
        return false;
    }
  }

  /** Full view: locked by CRISP_RUNTIME_CONFIG, or a phone-sized viewport. */
  get large(): boolean {
    return this.options.runtimeConfig.lock_full_view === true || window.innerWidth < 480;
  }

  // --- commands ------------------------------------------------------------------------------------

  #run(command: unknown): void {
    if (!isArray(command) || !isString(command[0])) fail('A command is an array like ["do", "chat:open"].');
    const [form, name, args] = command as [string, unknown, unknown];
    switch (form) {
      case "do":
        if (!isString(name)) fail('"do" needs an action name.');
        this.#do(name as string, args === undefined ? [] : this.#args(form, name as string, args));
        return;
      case "set":
        if (!isString(name)) fail('"set" needs a key.');
        this.#set(name as string, this.#args(form, name as string, args));
        return;
      case "on":
        if (!isString(name)) fail('"on" needs an event name.');
        if (typeof args !== "function") fail(`"on ${String(name)}" needs a callback function.`);
        if (!EVENTS.has(name as string) && !(name as string).startsWith("hugo:tool:")) {
          this.#unknown(`on ${String(name)}`);
          return;
        }
        // One handler per event: a new "on" replaces the previous one.
        this.#handlers.set(name as string, args as Callback);
        return;
      case "off":
        if (!isString(name)) fail('"off" needs an event name.');
        this.#handlers.delete(name as string);
        return;
      case "config":
        if (!isString(name)) fail('"config" needs a key.');
        // ["config", key, [value]] or a bare value.
        this.#config(name as string, isArray(args) ? args[0] : args);
        return;
      case "safe":
        this.#safe = name !== false;
        return;
      case "get":
      case "is":
        fail(`"${form}" is not a push command: call $crisp.${form}(…) after load.`);
        return;
      default:
        this.#unknown(form);
        return;
    }
  }

  #args(form: string, name: string, args: unknown): unknown[] {
    if (!isArray(args))
      fail(`"${form} ${name}" takes its arguments as an array, e.g. ["${form}", "${name}", [ … ]].`);
    return args as unknown[];
  }

  #do(action: string, args: unknown[]): void {
    switch (action) {
      case "chat:open":
        this.#open(true);
        return;
      case "chat:close":
        this.#open(false);
        return;
      case "chat:toggle":
        this.#open(!this.opened);
        return;
      case "chat:show":
        this.visible = true;
        this.changed();
        return;
      case "chat:hide":
        this.visible = false;
        this.opened = false;
        this.changed();
        return;
      case "message:send": {
        const [type, content] = args;
        if (!["text", "file", "animation", "audio"].includes(type as string)) {
          fail('"message:send" takes [type, content] with type text, file, animation or audio.');
        }
        if (type === "text" && (!isString(content) || content.trim() === "")) {
          fail('"message:send" of type text needs a non-empty string.');
        }
        if (type !== "text" && (typeof content !== "object" || content === null)) {
          fail(`"message:send" of type ${String(type)} needs an object such as {url, type}.`);
        }
        this.sendMessage(type as string, content);
        return;
      }
      case "message:show": {
        const [type, content] = args;
        if (!isString(type) || content === undefined) fail('"message:show" takes [type, content].');
        // Local only, as if the operator had written it.
        this.messages.push({
          fingerprint: newFingerprint(),
          author: "operator",
          type: type as string,
          text: excerpt(type as string, content),
          content,
          nickname: "",
          pending: false,
        });
        this.changed();
        return;
      }
      case "message:read":
        this.unread = 0;
        this.changed();
        this.acknowledge(true);
        return;
      case "session:reset":
        this.#reset(args[0] === true);
        return;
      case "helpdesk:search":
        this.showHelpdesk();
        return;
      case "helpdesk:query": {
        const [query] = args;
        if (!isString(query)) fail('"helpdesk:query" takes [query].');
        this.showHelpdesk();
        void this.searchHelpdesk(query as string);
        return;
      }
      case "helpdesk:article:open": {
        const [locale, slug, title] = args;
        if (!isString(locale) || !isString(slug) || (title !== undefined && !isString(title)))
          fail('"helpdesk:article:open" takes [locale, slug, title?, category?].');
        void this.#openArticle(locale as string, slug as string, title as string | undefined);
        return;
      }
      case "bot:scenario:run": {
        const [id, variables] = args;
        if (!isString(id)) fail('"bot:scenario:run" takes [scenario_id, variables?].');
        if (
          variables !== undefined &&
          (typeof variables !== "object" || variables === null || isArray(variables))
        ) {
          fail('"bot:scenario:run" variables must be an object like {order: "1234"}.');
        }
        this.#server(`bot:scenario:run ${String(id)}`, () =>
          this.api.runScenario(id as string, variables as Record<string, unknown> | undefined),
        );
        return;
      }
      default:
        if (NOT_YET.has(action)) this.#warnOnce(action, `"${action}" is not available in Hugo yet; ignored.`);
        else this.#unknown(`do ${action}`);
        return;
    }
  }

  #set(key: string, args: unknown[]): void {
    switch (key) {
      case "message:text":
        if (!isString(args[0])) fail('"set message:text" takes [text].');
        this.composerText = args[0] as string;
        this.changed();
        return;
      case "user:email":
      case "user:nickname":
      case "user:phone":
      case "user:avatar": {
        const value = args[0];
        if (!isString(value)) fail(`"set ${key}" takes [${key.slice(5)}].`);
        const field = key.slice(5) as "email" | "nickname" | "phone" | "avatar";
        this.#setUser(field, value as string);
        this.#update({ [field]: value } as WidgetVisitorUpdate, `set ${key}`);
        return;
      }
      case "user:company": {
        const [name, details] = args;
        if (!isString(name)) fail('"set user:company" takes [name, {url?, description?, …}].');
        // Kept in the widget for `get user:company`; Hugo has no company profile yet.
        this.#user.company = { name, ...((details as object | undefined) ?? {}) };
        return;
      }
      case "session:data": {
        // [[[key, value], …]]; a single [key, value] pair is accepted too.
        const raw = args[0];
        const pairs =
          isArray(raw) && isArray(raw[0])
            ? raw
            : isString(args[0])
              ? [args]
              : fail('"set session:data" takes [[[key, value], …]].');
        const data: Record<string, string | number | boolean> = {};
        for (const pair of pairs as unknown[]) {
          if (!isArray(pair) || !isString(pair[0])) fail('"set session:data" takes [[[key, value], …]].');
          const [k, v] = pair as [string, unknown];
          if (!["string", "number", "boolean"].includes(typeof v))
            fail(`session:data "${k}" must be a string, number or boolean.`);
          data[k] = v as string | number | boolean;
          this.#data.set(k, v as string | number | boolean);
        }
        this.#update({ data }, "set session:data");
        return;
      }
      case "session:segments": {
        const [segments, overwrite] = args;
        if (!isArray(segments) || !segments.every(isString))
          fail('"set session:segments" takes [[segments], overwrite?].');
        this.#segments =
          overwrite === true
            ? [...(segments as string[])]
            : [...new Set([...this.#segments, ...(segments as string[])])];
        this.#update(
          { segments: { segments: segments as string[], overwrite: overwrite === true } },
          "set session:segments",
        );
        return;
      }
      case "session:event": {
        const [events] = args;
        const list =
          isArray(events) && isArray(events[0])
            ? events
            : isString(args[0])
              ? [args]
              : fail('"set session:event" takes [[[name, data?, color?], …]].');
        const parsed = (list as unknown[]).map((e) => {
          if (!isArray(e) || !isString(e[0])) fail('"set session:event" takes [[[name, data?, color?], …]].');
          const [name, data, color] = e as [string, unknown, unknown];
          return {
            name,
            ...(data && typeof data === "object" ? { data: data as Record<string, unknown> } : {}),
            ...(isString(color) ? { color } : {}),
          };
        });
        this.#update({ events: parsed }, "set session:event");
        return;
      }
      default:
        this.#unknown(`set ${key}`);
        return;
    }
  }

  #config(key: string, value: unknown): void {
    if (!CONFIGS.has(key)) {
      this.#unknown(`config ${key}`);
      return;
    }
    this.config.set(key, value);
    this.changed();
  }

  #open(open: boolean): void {
    // CRISP_RUNTIME_CONFIG.lock_maximized: the chat stays open.
    if (!open && this.options.runtimeConfig.lock_maximized === true) return;
    if (open && !this.visible) this.visible = true;
    if (this.opened === open) return;
    this.opened = open;
    // The launcher reopens the conversation; `helpdesk:search` asks for the search view again.
    if (!open) this.view = "chat";
    if (open) this.unread = 0;
    this.changed();
    this.emit(open ? "chat:opened" : "chat:closed");
    if (open) this.acknowledge();
  }

  #setUser(field: "email" | "nickname" | "phone" | "avatar", value: string): void {
    if (this.#user[field] === value) return;
    this.#user[field] = value;
    this.emit(`user:${field}:changed`, value);
  }

  // --- help desk ----------------------------------------------------------------------------------

  /** Opens the panel on the help-desk search. */
  showHelpdesk(): void {
    this.#open(true);
    if (this.view === "helpdesk") return;
    this.view = "helpdesk";
    this.changed();
  }

  showChat(): void {
    this.view = "chat";
    this.changed();
  }

  /** Searches the help desk; only the latest search's answer is shown, and fires `helpdesk:queried`. */
  async searchHelpdesk(query: string): Promise<WidgetHelpdeskResult[] | undefined> {
    const state = this.helpdesk;
    const id = ++this.#searches;
    state.query = query;
    state.error = "";
    state.expanded = null;
    const q = query.trim().slice(0, 500);
    if (!q) {
      state.results = null;
      state.busy = false;
      this.changed();
      return undefined;
    }
    state.busy = true;
    this.changed();
    try {
      await this.#session.promise;
      const locale = this.options.runtimeConfig.locale;
      const answer = await this.api.searchHelpdesk(q, isString(locale) ? locale : undefined);
      for (const r of answer.results) this.#articles.set(r.source_id, r);
      if (id !== this.#searches) return answer.results;
      state.results = answer.results;
      state.busy = false;
      this.changed();
      this.emit("helpdesk:queried", { query: q, results: answer.results.map((r) => ({ ...r })) });
      return answer.results;
    } catch (error) {
      if (id === this.#searches) {
        state.busy = false;
        state.error =
          error instanceof WidgetApiError && error.status === 429
            ? "Too many searches; try again in a minute."
            : "The search is unavailable right now.";
        this.changed();
      }
      console.warn(`[Hugo] helpdesk search failed (${String(error)}).`);
      return undefined;
    }
  }

  /**
   * `helpdesk:article:open [locale, slug, title?]`: Hugo has no article slugs, so the article is the
   * result whose URL ends with the slug, or whose title is `title`, among the results seen or found by
   * searching for the title (or the slug's words). Without one, it warns once.
   */
  async #openArticle(locale: string, slug: string, title: string | undefined): Promise<void> {
    const matches = (r: WidgetHelpdeskResult) => {
      const url = safeUrl(r.url);
      if (!url) return false;
      const last = new URL(url).pathname.replace(/\/+$/, "").split("/").pop() ?? "";
      return last === slug || (title !== undefined && r.title.toLowerCase() === title.toLowerCase());
    };
    let found = [...this.#articles.values()].find(matches);
    if (!found) {
      try {
        await this.#session.promise;
        const answer = await this.api.searchHelpdesk(
          (title ?? slug.replace(/[-_]+/g, " ")).slice(0, 500),
          locale,
        );
        for (const r of answer.results) this.#articles.set(r.source_id, r);
        found = answer.results.find(matches);
      } catch {
        found = undefined;
      }
    }
    if (found) window.open(safeUrl(found.url)!, "_blank", "noopener,noreferrer");
    else
      this.#warnOnce(
        "helpdesk:article:open",
        `"helpdesk:article:open": no help article with a URL matches "${slug}"; ignored.`,
      );
  }

  // --- server work ---------------------------------------------------------------------------------

  /** Queues work that needs the session, in command order; a refusal is logged, never thrown. */
  #server(what: string, work: () => Promise<unknown>): void {
    this.#queue = this.#queue.then(work).catch((error) => {
      const reason = error instanceof WidgetApiError ? `${error.reason}: ${error.message}` : String(error);
      console.warn(`[Hugo] ${what} failed (${reason}).`);
    });
  }

  #update(patch: WidgetVisitorUpdate, what: string): void {
    this.#server(what, () => this.api.updateVisitor(patch));
  }

  /** A visitor message: shown at once, sent exactly once (its fingerprint makes retries idempotent). */
  sendMessage(type: string, content: unknown): void {
    const fingerprint = newFingerprint();
    this.#unsent((list) => [...list, { fingerprint, type, content, session: this.sessionId }]);
    this.messages.push({
      fingerprint,
      author: "visitor",
      type,
      text: excerpt(type, content),
      content,
      nickname: "",
      pending: true,
    });
    this.changed();
    // Later commands wait for this message, so "send, then set" reaches Hugo in that order.
    this.#server("message:send", () => {
      const sent = deferred<void>();
      this.#outbox.push({ fingerprint, type, content, done: sent.resolve });
      void this.#flush();
      return sent.promise;
    });
  }

  /** Sends the outbox in order; a network failure waits and retries the same fingerprint. */
  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      let attempt = 0;
      while (this.#outbox.length > 0) {
        const next = this.#outbox[0]!;
        try {
          await this.api.sendMessage({
            type: next.type,
            content: next.content,
            fingerprint: next.fingerprint,
          } as never);
        } catch (error) {
          if (!(error instanceof WidgetApiError) || error.status >= 500 || error.reason === "rate_limited") {
            attempt++;
            // Waking (retryNow) cuts the wait short.
            await new Promise<void>((r) => {
              const timer = setTimeout(r, Math.min(15_000, 500 * 2 ** attempt));
              this.#wake = () => {
                clearTimeout(timer);
                r();
              };
            });
            this.#wake = undefined;
            continue;
          }
          console.warn(`[Hugo] message:send refused (${error.reason}: ${error.message}).`);
          if (this.#outbox[0] !== next) continue; // reset meanwhile
          this.#outbox.shift();
          this.#forget(next.fingerprint);
          next.done();
          this.messages = this.messages.filter((m) => m.fingerprint !== next.fingerprint);
          this.changed();
          continue;
        }
        attempt = 0;
        if (this.#outbox[0] !== next) continue; // reset meanwhile
        this.#outbox.shift();
        this.#forget(next.fingerprint);
        next.done();
        this.#confirm(next.fingerprint);
        this.emit("message:sent", {
          type: next.type,
          content: next.content,
          fingerprint: next.fingerprint,
          from: "user",
          origin: "chat",
        });
        if (!this.#initiated) {
          this.#initiated = true;
          this.emit("chat:initiated");
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * The visitor picks a file: it is stored on Hugo, then sent as a `file` message with its URL
   * (exactly once, as any message). Uploads need the network: a failure is shown, not retried.
   */
  async sendFile(file: File): Promise<void> {
    this.notice = `Sending ${file.name}…`;
    this.changed();
    try {
      await this.#session.promise;
      const stored = await this.api.upload(file);
      this.notice = "";
      this.sendMessage("file", {
        name: stored.name,
        url: this.options.origin + stored.path,
        type: stored.type,
      });
    } catch (error) {
      const status = error instanceof WidgetApiError ? error.status : 0;
      this.notice =
        status === 413
          ? `${file.name} is too large to send.`
          : status === 429
            ? "Too many files; try again in a minute."
            : `${file.name} could not be sent.`;
      console.warn(`[Hugo] the file could not be sent (${String(error)}).`);
    }
    this.changed();
  }

  /** The visitor clicks a picker's choice or submits a field; refusals reach the caller (the UI shows them). */
  async answer(fingerprint: number, value: string): Promise<void> {
    await this.#session.promise;
    const answered = await this.api.answer(fingerprint, value);
    const message = this.messages.find((m) => m.fingerprint === fingerprint);
    if (message) {
      message.content = answered.content;
      this.changed();
    }
  }

  /**
   * Read receipts: tells Hugo the visitor saw the operator's messages — when they are on screen (the
   * chat open in a visible tab), or when the page says so (`do message:read`, `force`).
   */
  acknowledge(force = false): void {
    if (!this.#unacknowledged || (!force && (!this.opened || document.hidden))) return;
    this.#unacknowledged = false;
    this.#server("message:read", () => this.api.markRead());
  }

  /** The page woke (back online, resumed from frozen, shown again): reconnect and send now, not after the backoff. */
  retryNow(): void {
    this.acknowledge();
    this.#realtime?.check();
    this.#wake?.();
    void this.#flush();
  }

  #confirm(fingerprint: number): void {
    const message = this.messages.find((m) => m.fingerprint === fingerprint);
    if (message?.pending) {
      this.messages = this.messages.filter((m) => m !== message);
      message.pending = false;
      this.#place(message);
      this.changed();
    }
  }

  /** Accepted messages in Hugo's order, those still waiting to be sent below them. */
  #place(message: WidgetMessage): void {
    const firstPending = this.messages.findIndex((m) => m.pending);
    if (firstPending < 0) this.messages.push(message);
    else this.messages.splice(firstPending, 0, message);
  }

  // --- the unsent messages, kept across reloads -----------------------------------------------------

  get #unsentKey(): string {
    return `hugo/unsent/${this.options.websiteId}`;
  }

  /** Reads and rewrites the stored list (other tabs of the site share it); storage may be refused. */
  #unsent(change?: (list: Unsent[]) => Unsent[]): Unsent[] {
    let list: Unsent[] = [];
    try {
      const parsed = JSON.parse(localStorage.getItem(this.#unsentKey) ?? "[]");
      if (isArray(parsed)) list = parsed as Unsent[];
      if (change) {
        list = change(list);
        if (list.length > 0) localStorage.setItem(this.#unsentKey, JSON.stringify(list));
        else localStorage.removeItem(this.#unsentKey);
      }
    } catch {
      // Private mode or a sandboxed frame: messages then survive only as long as the page.
    }
    return list;
  }

  #forget(fingerprint: number): void {
    this.#unsent((list) => list.filter((u) => u.fingerprint !== fingerprint));
  }

  /**
   * The messages typed in this conversation that an earlier page (a reload, a closed tab) could not
   * send: shown as pending and sent first, with their fingerprints, so Hugo stores each once even
   * when the earlier page's request did arrive. Those of another conversation (a reset) are dropped.
   */
  #restoreUnsent(sessionId: string): void {
    const shown = new Set(this.messages.map((m) => m.fingerprint));
    const kept = this.#unsent((list) =>
      list
        .filter((u) => u.session === sessionId || u.session === null)
        .map((u) => ({ ...u, session: sessionId })),
    );
    for (const u of kept) {
      if (shown.has(u.fingerprint)) continue;
      this.messages.push({
        fingerprint: u.fingerprint,
        author: "visitor",
        type: u.type,
        text: excerpt(u.type, u.content),
        content: u.content,
        nickname: "",
        pending: true,
      });
      this.#outbox.push({ ...u, done: () => {} });
    }
  }

  // --- session -------------------------------------------------------------------------------------

  get #cookieName(): string {
    return encodeURIComponent(`crisp-client/session/${this.options.websiteId}`);
  }

  #readCookie(): string | undefined {
    const prefix = `${this.#cookieName}=`;
    const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : undefined;
  }

  #writeCookie(value: string | undefined): void {
    const seconds = value === undefined ? 0 : (this.options.cookieExpire ?? DEFAULT_COOKIE_EXPIRE_S);
    const parts = [
      `${this.#cookieName}=${value === undefined ? "" : encodeURIComponent(value)}`,
      "path=/",
      `max-age=${seconds}`,
      "samesite=lax",
    ];
    if (this.options.cookieDomain) parts.push(`domain=${this.options.cookieDomain}`);
    if (location.protocol === "https:") parts.push("secure");
    // biome-ignore lint/suspicious/noDocumentCookie: a first-party cookie, as Crisp stores its session.
    document.cookie = parts.join("; ");
  }

  /** Creates or resumes the session, then follows the conversation in realtime. */
  async load(): Promise<void> {
    let session: WidgetSession;
    const tokenId = this.options.tokenId();
    // The visitor's language: the site's CRISP_RUNTIME_CONFIG.locale, else the browser's.
    const locale = languageTag(this.options.runtimeConfig.locale) ?? languageTag(navigator.language);
    for (let attempt = 0; ; attempt++) {
      try {
        session = await this.api.openSession({
          ...(this.#readCookie() ? { token: this.#readCookie() } : {}),
          ...(tokenId ? { token_id: tokenId } : {}),
          ...(locale ? { locale } : {}),
          page_url: location.href.slice(0, 2048),
        });
        break;
      } catch (error) {
        if (error instanceof WidgetApiError && error.status < 500 && error.reason !== "rate_limited") {
          console.warn(`[Hugo] the chat could not start (${error.reason}: ${error.message}).`);
          this.#session.reject(error);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(15_000, 1000 * 2 ** attempt)));
      }
    }
    this.api.token = session.token;
    this.sessionId = session.session_id;
    this.#writeCookie(session.token);
    this.#restoreUnsent(session.session_id);
    if (this.#outbox.length > 0) void this.#flush();
    this.#realtime = new Realtime(this.options.origin, session.token, {
      event: (frame, live) => this.#event(frame, live),
      compose: (frame) => this.#compose(frame),
      status: (online) => {
        this.online = online;
        this.changed();
      },
    });
    this.#session.resolve(session);
    this.changed();
    this.emit("session:loaded", session.session_id);
  }

  #event(frame: EventFrame, live: boolean): void {
    const data = (frame.data ?? {}) as Record<string, unknown>;
    if (frame.name === "message:send" || frame.name === "message:received") {
      const fingerprint = Number(data.fingerprint);
      if (this.messages.some((m) => m.fingerprint === fingerprint)) {
        this.#confirm(fingerprint);
        return;
      }
      const author = authorOf(data);
      const user = (data.user ?? {}) as { nickname?: string };
      this.#place({
        fingerprint,
        author,
        type: String(data.type),
        text: excerpt(String(data.type), data.content),
        content: data.content,
        nickname: user.nickname ?? "",
        pending: false,
      });
      if (author === "visitor") this.#initiated = true;
      else {
        this.#unacknowledged = true;
        // One receipt for a burst (the history replayed on connect, a streamed answer).
        clearTimeout(this.#ackTimer);
        this.#ackTimer = setTimeout(() => this.acknowledge(), 250);
        this.operatorTyping = false;
        if (live) {
          if (!this.opened) this.unread++;
          this.onIncoming?.();
          this.emit("message:received", data);
        }
      }
      this.changed();
    } else if (frame.name === "message:updated") {
      const message = this.messages.find((m) => m.fingerprint === Number(data.fingerprint));
      if (message && data.content !== undefined) {
        // The agent's answer grows in place; a picker gets its choice, a field its value.
        message.text = excerpt(message.type, data.content);
        message.content = data.content;
        this.changed();
      }
    }
  }

  #compose(frame: ComposeFrame): void {
    if (frame.from === "user") return;
    this.operatorTyping = frame.state === "start";
    this.changed();
    this.emit("message:compose:received", { type: frame.state, excerpt: frame.excerpt ?? "" });
  }

  /** The visitor is typing: one "start" while typing, "stop" when the field empties or a message goes. */
  typing(state: "start" | "stop"): void {
    if (!this.sessionId || !this.#realtime) return;
    this.#realtime.compose(this.sessionId, state);
    this.emit("message:compose:sent", { type: state });
  }

  /**
   * `session:reset [reload?]`, as Crisp documents it: the browser forgets its conversation (cookie,
   * messages, unsent messages, visitor data) and a session starts with the `CRISP_TOKEN_ID` the page
   * holds now: none (a logout) → a new conversation, the token id's conversation staying bound to it
   * on Hugo; a token id (a login) → its conversation, on any device.
   */
  #reset(reload: boolean): void {
    this.#writeCookie(undefined);
    // A reset is a logout: what the previous visitor did not send is not sent for the next one.
    this.#unsent(() => []);
    if (reload) {
      location.reload();
      return;
    }
    this.#realtime?.close();
    this.#realtime = undefined;
    this.api.token = undefined;
    this.sessionId = null;
    this.messages = [];
    this.unread = 0;
    this.#initiated = false;
    this.#unacknowledged = false;
    for (const pending of this.#outbox.splice(0)) pending.done();
    this.#data.clear();
    this.#segments = [];
    for (const k of Object.keys(this.#user)) this.#user[k] = null;
    this.#session = deferred<WidgetSession>();
    this.#queue = this.#session.promise.catch(() => undefined);
    this.changed();
    void this.load();
  }

  // --- plumbing ------------------------------------------------------------------------------------

  /** Calls the handler of an event; a handler that throws is the host page's bug, logged, not rethrown. */
  emit(event: string, ...args: unknown[]): void {
    const handler = this.#handlers.get(event);
    if (!handler) return;
    try {
      handler(...args);
    } catch (error) {
      console.error(`[Hugo] the "${event}" handler threw:`, error);
    }
  }

  changed(): void {
    if (this.#renderScheduled) return;
    this.#renderScheduled = true;
    queueMicrotask(() => {
      this.#renderScheduled = false;
      for (const listener of this.#listeners) listener();
    });
  }

  #unknown(what: string): void {
    this.#warnOnce(
      what,
      `Unknown $crisp command "${what}"; ignored (see the $crisp reference in Hugo's docs).`,
    );
  }

  #warnOnce(key: string, message: string): void {
    if (!this.#warned.has(key)) {
      this.#warned.add(key);
      console.warn(`[Hugo] ${message}`);
    }
  }

  /** Safe mode logs a bad command; otherwise it throws to the caller, as Crisp's SDK does. */
  #guard<T>(work: () => T): T | undefined {
    try {
      return work();
    } catch (error) {
      if (!(error instanceof CommandError)) {
        console.error("[Hugo] internal error:", error);
        return undefined;
      }
      if (this.#safe) {
        console.warn(`[Hugo] ${error.message}`);
        return undefined;
      }
      throw new Error(`[Hugo] ${error.message}`);
    }
  }
}
