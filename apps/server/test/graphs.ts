/**
 * A browser-startable workflow the widget tests share: a picker ("yes" leads on), an email field,
 * then a text that repeats both answers.
 */
export function pickerFieldGraph(texts: { question: string; yes: string; explain?: string; thanks: string }) {
  return {
    blocks: [
      { id: "start", kind: "start.code", options: {} },
      {
        id: "ask",
        kind: "action.picker",
        options: {
          text: texts.question,
          variable: "choice",
          choices: [
            { value: "yes", label: texts.yes },
            { value: "no", label: "No" },
          ],
        },
      },
      {
        id: "email",
        kind: "action.field",
        options: {
          text: "Your email?",
          ...(texts.explain ? { explain: texts.explain } : {}),
          type: "email",
          variable: "email",
        },
      },
      { id: "thanks", kind: "action.text", options: { text: texts.thanks } },
    ],
    edges: [
      { from: "start", handle: "next", to: "ask" },
      { from: "ask", handle: "choice:yes", to: "email" },
      { from: "email", handle: "next", to: "thanks" },
    ],
  };
}
