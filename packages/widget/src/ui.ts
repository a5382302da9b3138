import { h, render } from "preact";
import { type AnswerState, clip, messageView } from "./messages.ts";
import { type CrispRuntime, safeUrl } from "./runtime.ts";
import { beep } from "./sound.ts";

const THEMES: Record<string, string> = {
  default: "#1972f5",
  amber: "#f59e0b",
  black: "#1f2937",
  blue: "#1972f5",
  blue_grey: "#607d8b",
  light_blue: "#03a9f4",
  brown: "#795548",
  cyan: "#00bcd4",
  green: "#16a34a",
  light_green: "#8bc34a",
  grey: "#6b7280",
  indigo: "#4f46e5",
  orange: "#f97316",
  deep_orange: "#ff5722",
  pink: "#ec4899",
  purple: "#9333ea",
  deep_purple: "#673ab7",
  red: "#dc2626",
  teal: "#0d9488",
};

// Everything the host page could push into the widget is reset at the shadow root: `:host` with
// !important wins over the page's !important rules (the inner context wins for important ones).
const CSS = `
:host { all: initial !important; display: block !important; visibility: visible !important; opacity: 1 !important; }
* { box-sizing: border-box; margin: 0; padding: 0; font: inherit; color: inherit; }
.root { position: fixed; right: 20px; bottom: 20px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; text-align: left; direction: ltr; }
.root.reverse { right: auto; left: 20px; }
.launcher { width: 56px; height: 56px; border-radius: 50%; border: 0; cursor: pointer; color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: flex; align-items: center; justify-content: center; position: relative; margin-left: auto; }
.reverse .launcher { margin-left: 0; }
.launcher svg { width: 26px; height: 26px; fill: currentColor; }
.badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; border-radius: 10px; background: #ef4444; color: #fff; font-size: 12px; line-height: 20px; text-align: center; padding: 0 5px; }
.panel { width: 360px; max-width: calc(100vw - 40px); height: 520px; max-height: calc(100vh - 110px); background: #fff; border-radius: 14px; box-shadow: 0 10px 40px rgba(0,0,0,.25); display: flex; flex-direction: column; overflow: hidden; margin-bottom: 14px; }
.root.large.open .launcher { display: none; }
.root.large .panel { position: fixed; inset: 0; width: 100vw; height: 100vh; max-width: none; max-height: none; border-radius: 0; margin: 0; }
.header { color: #fff; padding: 14px 16px; display: flex; align-items: center; justify-content: space-between; }
.title { font-weight: 600; font-size: 15px; }
.status { font-size: 12px; opacity: .85; }
.close { background: transparent; border: 0; color: #fff; font-size: 22px; line-height: 1; cursor: pointer; padding: 2px 6px; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; background: #f9fafb; }
.msg { max-width: 80%; display: flex; flex-direction: column; }
.msg.visitor { align-self: flex-end; align-items: flex-end; }
.who { font-size: 11px; color: #6b7280; margin: 0 4px 2px; }
.bubble { padding: 8px 12px; border-radius: 14px; background: #e5e7eb; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.visitor .bubble { color: #fff; } .msg.visitor .bubble.media { color: #111827; }
.msg.pending .bubble { opacity: .6; }
.bubble a { color: inherit; text-decoration: underline; }
.bubble strong { font-weight: 700; } .bubble em { font-style: italic; }
.msg.t-carousel { max-width: 100%; align-self: stretch; }
.choices { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
.choice { border: 1px solid currentColor; background: #fff; border-radius: 16px; padding: 5px 12px; cursor: pointer; font-weight: 500; }
.choice:disabled { cursor: default; }
.choice:disabled:not(.chosen) { opacity: .45; }
.field { display: flex; gap: 6px; margin-top: 6px; }
.field input { flex: 1; min-width: 0; border: 1px solid #d1d5db; border-radius: 8px; padding: 7px 9px; background: #fff; }
.field input[aria-invalid="true"] { border-color: #dc2626; }
.field button { border: 0; border-radius: 8px; padding: 0 12px; color: #fff; cursor: pointer; font-weight: 700; }
.error { color: #b91c1c; font-size: 12px; margin: 4px 4px 0; }
.clip { width: 14px; height: 14px; vertical-align: -2px; margin-right: 4px; fill: none; stroke: currentColor; stroke-width: 2; }
.media img { display: block; max-width: 100%; max-height: 220px; border-radius: 8px; margin-bottom: 4px; }
audio { max-width: 100%; height: 36px; }
.carousel { display: flex; gap: 8px; overflow-x: auto; scroll-snap-type: x mandatory; padding: 6px 2px 4px; }
.card { flex: 0 0 200px; scroll-snap-align: start; background: #fff; border: 1px solid #e5e7eb; border-radius: 10px; padding: 8px; display: flex; flex-direction: column; gap: 4px; }
.card img { width: 100%; height: 100px; object-fit: cover; border-radius: 6px; }
.card-title { font-weight: 600; }
.card-text { font-size: 12px; color: #4b5563; }
.card a { font-size: 13px; font-weight: 600; text-decoration: none; color: #1d4ed8; }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; }
.typing { padding: 0 14px 8px; background: #f9fafb; display: flex; gap: 4px; align-items: center; height: 22px; }
.typing i { width: 7px; height: 7px; border-radius: 50%; background: #9ca3af; animation: hugo-dot 1.2s infinite ease-in-out; }
.typing i:nth-child(2) { animation-delay: .15s; } .typing i:nth-child(3) { animation-delay: .3s; }
@keyframes hugo-dot { 0%, 80%, 100% { transform: translateY(0); opacity: .5; } 40% { transform: translateY(-4px); opacity: 1; } }
@media (prefers-reduced-motion: reduce) { .typing i { animation: none; } }
.compose { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; }
.compose input { flex: 1; border: 1px solid #d1d5db; border-radius: 8px; padding: 9px 10px; outline: none; background: #fff; }
.compose input:focus { border-color: #9ca3af; }
.hbtn { background: transparent; border: 0; color: #fff; cursor: pointer; padding: 4px; display: flex; border-radius: 6px; }
.hbtn svg { width: 18px; height: 18px; fill: none; stroke: currentColor; stroke-width: 2.2; }
.tools { display: flex; align-items: center; gap: 2px; }
.help { flex: 1; display: flex; flex-direction: column; min-height: 0; background: #f9fafb; }
.hsearch { padding: 10px; border-bottom: 1px solid #e5e7eb; background: #fff; }
.hsearch input { width: 100%; border: 1px solid #d1d5db; border-radius: 8px; padding: 9px 10px; background: #fff; }
.hstatus { font-size: 12px; color: #6b7280; padding: 8px 14px 0; min-height: 24px; }
.hstatus.err { color: #b91c1c; }
.hresults { list-style: none; overflow-y: auto; padding: 4px 10px 10px; display: flex; flex-direction: column; gap: 6px; }
.hresult { display: block; width: 100%; text-align: left; background: #fff; border: 1px solid #e5e7eb; border-radius: 10px; padding: 9px 11px; cursor: pointer; text-decoration: none; color: #111827; }
.hresult:hover { border-color: #9ca3af; }
.htitle { display: block; font-weight: 600; }
.hhead { display: block; font-size: 11px; color: #6b7280; }
.hsnip { display: block; font-size: 13px; color: #4b5563; margin-top: 2px; overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow-wrap: anywhere; }
.hresult[aria-expanded="true"] .hsnip { display: block; }
.compose button { border: 0; border-radius: 8px; padding: 0 14px; color: #fff; cursor: pointer; font-weight: 600; }
.compose .attach { background: transparent; color: #4b5563; padding: 0 4px; }
.attach .clip { width: 20px; height: 20px; margin: 0; vertical-align: middle; }
.notice { font-size: 12px; color: #4b5563; padding: 6px 12px 0; background: #fff; }
`;

const chatIcon = () =>
  h(
    "svg",
    { viewBox: "0 0 24 24", "aria-hidden": "true" },
    h("path", { d: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z" }),
  );

const searchIcon = () =>
  h(
    "svg",
    { viewBox: "0 0 24 24", "aria-hidden": "true" },
    h("circle", { cx: 11, cy: 11, r: 7 }),
    h("path", { d: "M20 20l-4-4" }),
  );

/** Milliseconds after the last keystroke before the help-desk search runs (Enter runs it at once). */
const SEARCH_DEBOUNCE_MS = 300;

/** The help-desk search view: a search field, a live status line and the results, text only. */
function helpView(rt: CrispRuntime, ui: UiState) {
  const state = rt.helpdesk;
  const run = (query: string) => {
    clearTimeout(ui.search);
    void rt.searchHelpdesk(query);
  };
  const count = state.results?.length ?? 0;
  const status = state.error
    ? state.error
    : state.busy
      ? "Searching…"
      : state.results === null
        ? "Search our help articles."
        : count === 0
          ? "No articles match your search."
          : `${count} article${count === 1 ? "" : "s"}`;
  return h(
    "div",
    { class: "help" },
    h(
      "form",
      {
        class: "hsearch",
        role: "search",
        onSubmit: (event: Event) => {
          event.preventDefault();
          run(state.query);
        },
      },
      h("input", {
        type: "search",
        placeholder: "Search help articles…",
        "aria-label": "Search help articles",
        maxLength: 500,
        value: state.query,
        onInput: (event: Event) => {
          const query = (event.currentTarget as HTMLInputElement).value;
          state.query = query;
          clearTimeout(ui.search);
          ui.search = setTimeout(() => run(query), SEARCH_DEBOUNCE_MS);
        },
      }),
    ),
    h("div", { class: `hstatus${state.error ? " err" : ""}`, role: "status", "aria-live": "polite" }, status),
    count > 0
      ? h(
          "ul",
          { class: "hresults", "aria-label": "Help articles" },
          state.results!.map((r) => {
            const url = safeUrl(r.url);
            const body = [
              h("span", { class: "htitle" }, r.title),
              r.heading ? h("span", { class: "hhead" }, r.heading) : null,
              h("span", { class: "hsnip" }, r.snippet),
            ];
            const expanded = state.expanded === r.source_id;
            return h(
              "li",
              { key: r.source_id },
              url
                ? h("a", { class: "hresult", href: url, target: "_blank", rel: "noopener noreferrer" }, body)
                : h(
                    "button",
                    {
                      class: "hresult",
                      type: "button",
                      "aria-expanded": expanded ? "true" : "false",
                      onClick: () => {
                        state.expanded = expanded ? null : r.source_id;
                        rt.changed();
                      },
                    },
                    body,
                  ),
            );
          }),
        )
      : null,
  );
}

/** The visitor's compose state: "start" at most every few seconds while typing, "stop" when idle. */
const COMPOSE_REPEAT_MS = 4_000;
const COMPOSE_IDLE_MS = 5_000;
interface UiState extends AnswerState {
  typing: boolean;
  lastStart: number;
  idle: ReturnType<typeof setTimeout> | undefined;
  search: ReturnType<typeof setTimeout> | undefined;
}

function stopTyping(rt: CrispRuntime, ui: UiState) {
  clearTimeout(ui.idle);
  if (!ui.typing) return;
  ui.typing = false;
  rt.typing("stop");
}

function themeColor(rt: CrispRuntime): string {
  const theme = rt.config.get("color:theme");
  return THEMES[typeof theme === "string" ? theme : "default"] ?? THEMES.default!;
}

function app(rt: CrispRuntime, ui: UiState) {
  if (!rt.visible) return null;
  const color = themeColor(rt);
  const index = rt.config.get("container:index");
  const classes = ["root"];
  if (rt.config.get("position:reverse") === true) classes.push("reverse");
  if (rt.large) classes.push("large");
  if (rt.opened) classes.push("open");
  const close = () => rt.push(["do", "chat:close"]);
  const submit = (event: Event) => {
    event.preventDefault();
    const text = rt.composerText.trim();
    if (!text) return;
    rt.composerText = "";
    stopTyping(rt, ui);
    rt.sendMessage("text", text);
  };
  const input = (event: Event) => {
    rt.composerText = (event.currentTarget as HTMLInputElement).value;
    if (rt.composerText.length === 0) {
      stopTyping(rt, ui);
      return;
    }
    const now = Date.now();
    if (!ui.typing || now - ui.lastStart > COMPOSE_REPEAT_MS) {
      ui.typing = true;
      ui.lastStart = now;
      rt.typing("start");
    }
    clearTimeout(ui.idle);
    ui.idle = setTimeout(() => stopTyping(rt, ui), COMPOSE_IDLE_MS);
  };
  const help = rt.view === "helpdesk";
  const panel = rt.opened
    ? h(
        "div",
        {
          class: "panel",
          role: "dialog",
          "aria-label": help ? "Help center" : "Chat with us",
          onKeyDown: (event: KeyboardEvent) => {
            if (event.key === "Escape") {
              event.stopPropagation();
              close();
            }
          },
        },
        h(
          "div",
          { class: "header", style: { background: color } },
          h(
            "div",
            null,
            h("div", { class: "title" }, help ? "Help center" : "Chat with us"),
            h(
              "div",
              { class: "status" },
              help
                ? "Answers from our help articles"
                : rt.online
                  ? "We reply in a few minutes"
                  : "Connecting…",
            ),
          ),
          h(
            "div",
            { class: "tools" },
            help
              ? h(
                  "button",
                  {
                    class: "hbtn",
                    type: "button",
                    "aria-label": "Back to chat",
                    onClick: () => rt.showChat(),
                  },
                  "‹ Chat",
                )
              : h(
                  "button",
                  {
                    class: "hbtn",
                    type: "button",
                    "aria-label": "Search help articles",
                    title: "Search help articles",
                    onClick: () => rt.showHelpdesk(),
                  },
                  searchIcon(),
                ),
            h("button", { class: "close", type: "button", "aria-label": "Close chat", onClick: close }, "×"),
          ),
        ),
        help
          ? helpView(rt, ui)
          : h(
              "div",
              { class: "log", role: "log", "aria-live": "polite" },
              rt.messages.map((m) => messageView(rt, ui, m, color)),
            ),
        !help && rt.operatorTyping
          ? h(
              "div",
              { class: "typing", role: "status", "aria-label": "Typing" },
              h("i", null),
              h("i", null),
              h("i", null),
            )
          : null,
        !help && rt.notice ? h("div", { class: "notice", role: "status" }, rt.notice) : null,
        help
          ? null
          : h(
              "form",
              { class: "compose", onSubmit: submit },
              h(
                "button",
                {
                  class: "attach",
                  type: "button",
                  "aria-label": "Send a file",
                  title: "Send a file",
                  onClick: () => {
                    // A detached picker: nothing in the panel a page's script or CSS would take for the field.
                    const picker = document.createElement("input");
                    picker.type = "file";
                    picker.multiple = true;
                    picker.onchange = () => {
                      for (const file of Array.from(picker.files ?? [])) void rt.sendFile(file);
                    };
                    picker.click();
                  },
                },
                clip,
              ),
              h("input", {
                type: "text",
                placeholder: "Type your message…",
                "aria-label": "Message",
                maxLength: 10000,
                value: rt.composerText,
                onInput: input,
              }),
              h("button", { type: "submit", style: { background: color } }, "Send"),
            ),
      )
    : null;
  const unread = rt.unread > 0 ? ` (${rt.unread} unread)` : "";
  return h(
    "div",
    { class: classes.join(" "), style: { zIndex: typeof index === "number" ? index : 1000000 } },
    panel,
    h(
      "button",
      {
        class: "launcher",
        type: "button",
        style: { background: color },
        "aria-label": (rt.opened ? "Close chat" : "Open chat") + unread,
        "aria-expanded": rt.opened ? "true" : "false",
        onClick: () => rt.push(["do", "chat:toggle"]),
      },
      chatIcon(),
      rt.unread > 0 ? h("span", { class: "badge", "aria-hidden": "true" }, String(rt.unread)) : null,
    ),
  );
}

/**
 * Mounts the widget in a Shadow DOM root under `<html>` (not `<body>`, which pages restyle and
 * replace), and re-renders it whenever the runtime's state changes. Opening moves the focus into
 * the message input, closing brings it back to the launcher (not on the first render: a page that
 * opens the chat at load keeps its own focus).
 */
export function mountUi(rt: CrispRuntime): HTMLElement {
  const host = document.createElement("div");
  host.id = "crisp-chatbox";
  host.setAttribute("data-hugo", "widget");
  const shadow = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = CSS;
  shadow.appendChild(style);
  const container = document.createElement("div");
  shadow.appendChild(container);
  document.documentElement.appendChild(host);
  const ui: UiState = {
    typing: false,
    lastStart: 0,
    idle: undefined,
    search: undefined,
    drafts: new Map(),
    busy: new Set(),
    errors: new Map(),
  };
  let wasOpened = rt.opened;
  let wasView = rt.view;
  let count = -1;
  const draw = () => {
    render(app(rt, ui), container);
    const log = shadow.querySelector(".log");
    // Follow the conversation when it grows (not when the visitor types in a field).
    if (log && count !== rt.messages.length) log.scrollTop = log.scrollHeight;
    count = rt.messages.length;
    if (rt.opened !== wasOpened || rt.view !== wasView) {
      wasOpened = rt.opened;
      wasView = rt.view;
      const target = shadow.querySelector<HTMLElement>(
        !rt.opened ? ".launcher" : rt.view === "helpdesk" ? ".hsearch input" : ".compose input",
      );
      target?.focus();
    }
  };
  rt.onIncoming = () => {
    if ((!rt.opened || document.hidden) && rt.config.get("sound:mute") !== true) beep();
  };
  rt.subscribe(draw);
  window.addEventListener("resize", () => rt.changed());
  // Back online, resumed from a frozen (sleeping) tab, restored from the back/forward cache, shown again.
  const wake = () => rt.retryNow();
  window.addEventListener("online", wake);
  window.addEventListener("pageshow", wake);
  document.addEventListener("resume", wake);
  document.addEventListener("visibilitychange", () => document.hidden || wake());
  draw();
  return host;
}
