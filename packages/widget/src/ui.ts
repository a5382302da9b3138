import { h, render } from "preact";
import type { CrispRuntime, WidgetMessage } from "./runtime.ts";

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

const LABELS: Record<WidgetMessage["author"], string> = {
  visitor: "You",
  operator: "Operator",
  bot: "Bot",
  agent: "AI agent",
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
.msg.visitor .bubble { color: #fff; }
.msg.pending .bubble { opacity: .6; }
.typing { font-size: 12px; color: #6b7280; padding: 0 14px 6px; background: #f9fafb; }
.compose { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; }
.compose input { flex: 1; border: 1px solid #d1d5db; border-radius: 8px; padding: 9px 10px; outline: none; background: #fff; }
.compose input:focus { border-color: #9ca3af; }
.compose button { border: 0; border-radius: 8px; padding: 0 14px; color: #fff; cursor: pointer; font-weight: 600; }
`;

const chatIcon = () =>
  h(
    "svg",
    { viewBox: "0 0 24 24", "aria-hidden": "true" },
    h("path", { d: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z" }),
  );

function messageView(m: WidgetMessage, color: string) {
  const label = m.author === "visitor" ? "" : m.nickname || LABELS[m.author];
  return h(
    "div",
    {
      class: `msg ${m.author}${m.pending ? " pending" : ""}`,
      key: m.fingerprint,
      "data-from": m.author,
      "data-fingerprint": String(m.fingerprint),
    },
    label ? h("span", { class: "who" }, label) : null,
    // A text child: Preact sets it as a text node, so markup in a message is never parsed.
    h("div", { class: "bubble", style: m.author === "visitor" ? { background: color } : undefined }, m.text),
  );
}

function app(rt: CrispRuntime, typingState: { typing: boolean }) {
  if (!rt.visible) return null;
  const theme = rt.config.get("color:theme");
  const color = THEMES[typeof theme === "string" ? theme : "default"] ?? THEMES.default!;
  const index = rt.config.get("container:index");
  const classes = ["root"];
  if (rt.config.get("position:reverse") === true) classes.push("reverse");
  if (rt.large) classes.push("large");
  const submit = (event: Event) => {
    event.preventDefault();
    const text = rt.composerText.trim();
    if (!text) return;
    rt.composerText = "";
    if (typingState.typing) {
      typingState.typing = false;
      rt.typing("stop");
    }
    rt.sendMessage("text", text);
  };
  const input = (event: Event) => {
    rt.composerText = (event.currentTarget as HTMLInputElement).value;
    const typing = rt.composerText.length > 0;
    if (typing !== typingState.typing) {
      typingState.typing = typing;
      rt.typing(typing ? "start" : "stop");
    }
  };
  const panel = rt.opened
    ? h(
        "div",
        { class: "panel", role: "dialog", "aria-label": "Chat" },
        h(
          "div",
          { class: "header", style: { background: color } },
          h(
            "div",
            null,
            h("div", { class: "title" }, "Chat with us"),
            h("div", { class: "status" }, rt.online ? "We reply in a few minutes" : "Connecting…"),
          ),
          h(
            "button",
            {
              class: "close",
              type: "button",
              "aria-label": "Close chat",
              onClick: () => rt.push(["do", "chat:close"]),
            },
            "×",
          ),
        ),
        h(
          "div",
          { class: "log", role: "log", "aria-live": "polite" },
          rt.messages.map((m) => messageView(m, color)),
        ),
        rt.operatorTyping ? h("div", { class: "typing" }, "Typing…") : null,
        h(
          "form",
          { class: "compose", onSubmit: submit },
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
        "aria-label": rt.opened ? "Close chat" : "Open chat",
        onClick: () => rt.push(["do", "chat:toggle"]),
      },
      chatIcon(),
      rt.unread > 0 ? h("span", { class: "badge" }, String(rt.unread)) : null,
    ),
  );
}

/**
 * Mounts the widget in a Shadow DOM root under `<html>` (not `<body>`, which pages restyle and
 * replace), and re-renders it whenever the runtime's state changes.
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
  const typingState = { typing: false };
  const draw = () => {
    render(app(rt, typingState), container);
    const log = shadow.querySelector(".log");
    if (log) log.scrollTop = log.scrollHeight;
  };
  rt.subscribe(draw);
  window.addEventListener("resize", () => rt.changed());
  window.addEventListener("online", () => rt.retryNow());
  draw();
  return host;
}
