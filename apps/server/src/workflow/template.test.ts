import type { Conversation, VariableValue } from "@hugo/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderTemplate, templateLookup, templateVariables } from "./template.ts";

const values: Record<string, VariableValue> = {
  name: "Ada",
  count: 3,
  ratio: 0.5,
  yes: true,
  no: false,
  empty: "",
  braces: "{{ name }}",
  "data.plan": "never used: variable names have no dots",
};
const lookup = (path: string) => (Object.hasOwn(values, path) ? values[path] : undefined);

describe("renderTemplate", () => {
  it.each([
    ["Hello {{ name }}!", "Hello Ada!"],
    ["Hello {{name}}!", "Hello Ada!"],
    ["Hello {{   name\t}}!", "Hello Ada!"],
    ["{{ name }}{{ name }}", "AdaAda"],
    ["{{ count }} items, {{ ratio }} ratio", "3 items, 0.5 ratio"],
    ["{{ yes }}/{{ no }}", "true/false"],
    ["[{{ missing }}]", "[]"],
    ["[{{ missing.deep.path }}]", "[]"],
    ["[{{ empty }}]", "[]"],
    ["no placeholders at all", "no placeholders at all"],
    ["{{ }}", "{{ }}"],
    ["{{ 1x }}", "{{ 1x }}"],
    ["{{ na me }}", "{{ na me }}"],
    ["{ name }", "{ name }"],
    ["{{ name }", "{{ name }"],
    ["{{{ name }}}", "{Ada}"],
    ["{{ name. }}", "{{ name. }}"],
    ["{{\nname\n}}", "{{\nname\n}}"],
    ["{{ name\n}}", "{{ name\n}}"],
    ["émoji 🎉 {{ name }} ✓", "émoji 🎉 Ada ✓"],
    ["{{ braces }}", "{{ name }}"],
  ])("renders %j as %j", (template, expected) => {
    expect(renderTemplate(template, lookup)).toBe(expected);
  });

  it("does not expand a placeholder that an inserted value contains", () => {
    let calls = 0;
    const out = renderTemplate("{{ a }}", (p) => {
      calls++;
      return p === "a" ? "{{ a }}" : undefined;
    });
    expect(out).toBe("{{ a }}");
    expect(calls).toBe(1);
  });

  it("passes dotted paths with dashes to the lookup whole", () => {
    const seen: string[] = [];
    renderTemplate("{{ data.first-name }} {{ visitor.email }} {{ _x.0 }}", (p) => {
      seen.push(p);
      return undefined;
    });
    expect(seen).toEqual(["data.first-name", "visitor.email", "_x.0"]);
  });

  const nasty = [
    'quote " here',
    "back\\slash \\n literal",
    "new\nline\r\ntab\t",
    "emoji 👩‍💻🎉 and é",
    "\u2028line separators\u2029",
    "control \u0000\u0001\u001f",
    "</script><script>alert(1)</script>",
    '"},"admin":true,"x":"',
    "{{ name }}",
    "lone surrogate \ud800 end",
  ];

  it.each(nasty)("keeps a JSON body valid and round-trips %j", (value) => {
    const body = renderTemplate(
      '{"email":"{{ v }}","n":{{ n }}}',
      (p) => (p === "v" ? value : p === "n" ? 7 : undefined),
      "json",
    );
    expect(JSON.parse(body)).toEqual({ email: value, n: 7 });
  });

  it("round-trips any string through a JSON body", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (value) => {
        const body = renderTemplate('{"v":"{{ v }}"}', () => value, "json");
        expect(JSON.parse(body)).toEqual({ v: value });
      }),
      { numRuns: 200 },
    );
  });

  it("round-trips any string through a URL query", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (value) => {
        const url = renderTemplate("https://example.com/x?q={{ v }}&n=1", () => value, "url");
        const parsed = new URL(url);
        expect(parsed.searchParams.get("q")).toBe(value);
        expect(parsed.searchParams.get("n")).toBe("1");
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ["a b&c=d/é?#", "a%20b%26c%3Dd%2F%C3%A9%3F%23"],
    ["😀", "%F0%9F%98%80"],
  ])("escapes %j for a URL as %j", (value, expected) => {
    expect(renderTemplate("{{ v }}", () => value, "url")).toBe(expected);
  });

  it("escapes numbers and booleans too, and leaves the template's own text alone", () => {
    expect(renderTemplate('"{{ n }}" "{{ b }}"', (p) => (p === "n" ? -1.5 : true), "json")).toBe(
      '"-1.5" "true"',
    );
    expect(renderTemplate("a b/{{ v }}", () => "c d", "url")).toBe("a b/c%20d");
  });
});

describe("templateVariables", () => {
  it.each([
    ["Hi {{ name }}, {{ data.plan }} {{name}}", ["name", "data.plan"]],
    ["{{ }} {{ 1x }} { x }", []],
    ["{{ visitor.email }}{{ segments }}", ["visitor.email", "segments"]],
    ["", []],
  ])("lists the paths of %j", (template, expected) => {
    expect(templateVariables(template)).toEqual(expected);
  });
});

const conversation = (
  overrides: Partial<Conversation> = {},
  meta: Partial<Conversation["meta"]> = {},
): Conversation => ({
  session_id: "session_00000000-0000-4000-8000-000000000001",
  website_id: "00000000-0000-4000-8000-000000000002",
  inbox_id: null,
  state: "pending",
  is_blocked: false,
  assigned: null,
  meta: {
    nickname: "Ada Lovelace",
    email: "ada@example.com",
    phone: "",
    avatar: "",
    ip: "203.0.113.7",
    subject: "Billing",
    locale: "",
    origin: "chat",
    segments: ["vip", "beta"],
    data: { plan: "pro", seats: 12, trial: false, nested: { a: 1 } as unknown as string },
    ...meta,
  },
  created_at: 0,
  updated_at: 0,
  last_message: "",
  unread: { operator: 0, visitor: 0 },
  last_seq: 0,
  ...overrides,
});

describe("templateLookup", () => {
  const look = templateLookup({ plan_override: "x", email: "var@example.com" }, conversation());

  it.each<[string, VariableValue | undefined]>([
    ["email", "var@example.com"],
    ["visitor.email", "ada@example.com"],
    ["visitor.nickname", "Ada Lovelace"],
    ["visitor.ip", "203.0.113.7"],
    ["visitor.subject", "Billing"],
    ["visitor.origin", "chat"],
    ["visitor.phone", undefined],
    ["visitor.avatar", undefined],
    ["visitor.segments", "vip, beta"],
    ["visitor.data", undefined],
    ["visitor.constructor", undefined],
    ["segments", "vip, beta"],
    ["data.plan", "pro"],
    ["data.seats", 12],
    ["data.trial", false],
    ["data.nested", undefined],
    ["data.missing", undefined],
    ["data.constructor", undefined],
    ["data.__proto__", undefined],
    ["session_id", "session_00000000-0000-4000-8000-000000000001"],
    ["website_id", "00000000-0000-4000-8000-000000000002"],
    ["state", "pending"],
    ["inbox", "main"],
    ["constructor", undefined],
    ["toString", undefined],
    ["nothing", undefined],
  ])("resolves %s", (path, expected) => {
    expect(look(path)).toBe(expected);
  });

  it("prefers a run variable over the conversation's value of the same name", () => {
    const l = templateLookup({ state: "custom", segments: "mine" }, conversation());
    expect(l("state")).toBe("custom");
    expect(l("segments")).toBe("mine");
  });

  it("names the inbox when the conversation is in one", () => {
    expect(templateLookup({}, conversation({ inbox_id: "automated" }))("inbox")).toBe("automated");
  });

  it("treats no segments as missing", () => {
    expect(templateLookup({}, conversation({}, { segments: [] }))("segments")).toBeUndefined();
  });

  it("renders a greeting from variables and the conversation together", () => {
    const l = templateLookup({ order: 42 }, conversation());
    expect(
      renderTemplate(
        "Hi {{ visitor.nickname }}, order {{ order }} ({{ data.plan }}, {{ visitor.phone }})",
        l,
      ),
    ).toBe("Hi Ada Lovelace, order 42 (pro, )");
  });
});
