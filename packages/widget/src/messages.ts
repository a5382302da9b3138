import { type ComponentChildren, h } from "preact";
import { link, markdown, safeUrl } from "./markdown.ts";
import type { CrispRuntime, WidgetMessage } from "./runtime.ts";

/** How each message type of contract §3 looks in the widget. */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const web = (v: unknown) => safeUrl(v, ["http:", "https:"]);

interface Choice {
  value: string;
  label: string;
  selected?: boolean;
  icon?: string;
  action?: { type?: string; target?: string };
}

/** Per-message UI state that is not Hugo's: a field's draft, an answer in flight, a refusal. */
export interface AnswerState {
  drafts: Map<number, string>;
  busy: Set<number>;
  errors: Map<number, string>;
}

function answer(rt: CrispRuntime, state: AnswerState, m: WidgetMessage, value: string) {
  state.busy.add(m.fingerprint);
  state.errors.delete(m.fingerprint);
  rt.changed();
  rt.answer(m.fingerprint, value).then(
    () => {
      state.busy.delete(m.fingerprint);
      state.drafts.delete(m.fingerprint);
      rt.changed();
    },
    (error: unknown) => {
      state.busy.delete(m.fingerprint);
      const message = error instanceof Error ? error.message : String(error);
      // Hugo's messages name the field ("value: not an email address."): show the reason only.
      state.errors.set(
        m.fingerprint,
        error instanceof TypeError ? "Network error, try again." : message.replace(/^value: /, ""),
      );
      rt.changed();
    },
  );
}

function picker(rt: CrispRuntime, state: AnswerState, m: WidgetMessage, color: string) {
  const c = obj(m.content);
  const choices = (Array.isArray(c.choices) ? c.choices : []) as Choice[];
  const answered = choices.some((x) => x.selected);
  const busy = state.busy.has(m.fingerprint);
  return [
    h("div", { class: "bubble" }, markdown(str(c.text))),
    h(
      "div",
      { class: "choices", role: "group", "aria-label": str(c.text).slice(0, 100) },
      choices.map((choice) =>
        h(
          "button",
          {
            type: "button",
            class: `choice${choice.selected ? " chosen" : ""}`,
            disabled: answered || busy || m.pending,
            "aria-pressed": choice.selected ? "true" : "false",
            style: choice.selected ? { background: color, borderColor: color, color: "#fff" } : { color },
            onClick: () => {
              const target = choice.action?.type === "link" ? web(choice.action.target) : undefined;
              if (target) window.open(target, "_blank", "noopener,noreferrer");
              answer(rt, state, m, choice.value);
            },
          },
          choice.icon ? `${choice.icon} ${choice.label}` : choice.label,
        ),
      ),
    ),
    errorLine(state, m),
  ];
}

function field(rt: CrispRuntime, state: AnswerState, m: WidgetMessage, color: string) {
  const c = obj(m.content);
  const stored = str(c.value);
  const draft = state.drafts.get(m.fingerprint) ?? stored;
  const busy = state.busy.has(m.fingerprint);
  const error = state.errors.get(m.fingerprint);
  const submit = (event: Event) => {
    event.preventDefault();
    // Read at submit time: typing does not re-render the widget.
    const value = (state.drafts.get(m.fingerprint) ?? stored).trim();
    if (!value) {
      state.errors.set(m.fingerprint, "Please fill this in.");
      rt.changed();
      return;
    }
    if (value === stored) return;
    answer(rt, state, m, value);
  };
  const explain = str(c.explain);
  return [
    h("div", { class: "bubble" }, markdown(str(c.text))),
    h(
      "form",
      { class: "field", onSubmit: submit, noValidate: true },
      h("input", {
        type: "text",
        value: draft,
        placeholder: explain || "Your answer",
        "aria-label": explain || str(c.text).slice(0, 100) || "Answer",
        "aria-invalid": error ? "true" : "false",
        maxLength: 10000,
        disabled: busy,
        onInput: (event: Event) => {
          state.drafts.set(m.fingerprint, (event.currentTarget as HTMLInputElement).value);
          if (state.errors.delete(m.fingerprint)) rt.changed();
        },
      }),
      h(
        "button",
        { type: "submit", disabled: busy, style: { background: color }, "aria-label": "Submit answer" },
        stored && draft === stored ? "✓" : "→",
      ),
    ),
    errorLine(state, m),
  ];
}

const errorLine = (state: AnswerState, m: WidgetMessage) => {
  const error = state.errors.get(m.fingerprint);
  return error ? h("div", { class: "error", role: "alert" }, error) : null;
};

export const clip = h(
  "svg",
  { class: "clip", viewBox: "0 0 24 24", "aria-hidden": "true" },
  h("path", { d: "M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7" }),
);

function media(m: WidgetMessage): ComponentChildren {
  const c = obj(m.content);
  const url = web(c.url);
  const type = str(c.type);
  if (m.type === "audio") {
    return url
      ? h("audio", { controls: true, preload: "none", src: url })
      : h("div", { class: "bubble" }, "[audio]");
  }
  const name = str(c.name) || (m.type === "animation" ? "Animation" : "File");
  if (!url) return h("div", { class: "bubble" }, name);
  const image = m.type === "animation" || type.startsWith("image/");
  return h(
    "div",
    { class: "bubble media" },
    image
      ? link(url, h("img", { src: url, alt: name, loading: "lazy", referrerpolicy: "no-referrer" }))
      : null,
    m.type === "file" ? link(url, [clip, name]) : null,
  );
}

function carousel(m: WidgetMessage): ComponentChildren {
  const c = obj(m.content);
  const targets = (Array.isArray(c.targets) ? c.targets : []).map(obj);
  return [
    str(c.text) ? h("div", { class: "bubble" }, markdown(str(c.text))) : null,
    h(
      "div",
      { class: "carousel", tabIndex: 0, "aria-label": "Carousel" },
      targets.map((t) => {
        const image = web(t.image);
        const actions = (Array.isArray(t.actions) ? t.actions : []).map(obj);
        return h(
          "div",
          { class: "card" },
          image ? h("img", { src: image, alt: "", loading: "lazy", referrerpolicy: "no-referrer" }) : null,
          h("div", { class: "card-title" }, str(t.title)),
          str(t.description) ? h("div", { class: "card-text" }, markdown(str(t.description))) : null,
          actions.map((a) => {
            const href = web(a.url);
            return href ? link(href, str(a.label)) : null;
          }),
        );
      }),
    ),
  ];
}

export const AUTHOR_LABELS: Record<WidgetMessage["author"], string> = {
  visitor: "You",
  operator: "Operator",
  bot: "Bot",
  agent: "AI agent",
};

/** One message: the author's name above it (not for the visitor's own), then its type's view. */
export function messageView(rt: CrispRuntime, state: AnswerState, m: WidgetMessage, color: string) {
  const label = m.author === "visitor" ? "" : m.nickname || AUTHOR_LABELS[m.author];
  let body: ComponentChildren;
  switch (m.type) {
    case "picker":
      body = picker(rt, state, m, color);
      break;
    case "field":
      body = field(rt, state, m, color);
      break;
    case "file":
    case "animation":
    case "audio":
      body = media(m);
      break;
    case "carousel":
      body = carousel(m);
      break;
    default:
      body = h(
        "div",
        { class: "bubble", style: m.author === "visitor" ? { background: color } : undefined },
        markdown(typeof m.content === "string" ? m.content : m.text),
      );
  }
  return h(
    "div",
    {
      class: `msg ${m.author} t-${m.type}${m.pending ? " pending" : ""}`,
      key: m.fingerprint,
      "data-from": m.author,
      "data-type": m.type,
      "data-fingerprint": String(m.fingerprint),
    },
    label ? h("span", { class: "who" }, label) : null,
    body,
  );
}
