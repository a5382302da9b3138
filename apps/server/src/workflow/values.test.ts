import type { CompareOperator, FieldType } from "@hugo/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compareValues,
  messageMatches,
  pickWeighted,
  readPath,
  urlMatches,
  validateFieldValue,
  withinBusinessHours,
} from "./values.ts";

describe("validateFieldValue", () => {
  it.each<[FieldType, string, string | number]>([
    ["text", "  hello there  ", "hello there"],
    ["text", "😀".repeat(1000), "😀".repeat(1000)],
    ["text", "line one\nline two", "line one\nline two"],
    ["email", "Ada@Example.COM", "ada@example.com"],
    ["email", "  a.b+tag@sub.example.co.uk ", "a.b+tag@sub.example.co.uk"],
    ["email", "o'brien@example.ie", "o'brien@example.ie"],
    ["email", "jösé@exämple.de", "jösé@exämple.de"],
    ["email", "user@xn--bcher-kva.example", "user@xn--bcher-kva.example"],
    ["phone", "+33 6 12 34 56 78", "+33612345678"],
    ["phone", "(555) 123-4567", "5551234567"],
    ["phone", "06.12.34.56.78", "0612345678"],
    ["phone", "123456", "123456"],
    ["phone", "+123456789012345", "+123456789012345"],
    ["number", "42", 42],
    ["number", "-3.5", -3.5],
    ["number", "3,14", 3.14],
    ["number", " +7 ", 7],
    ["number", ".5", 0.5],
    ["number", "007", 7],
    ["date", "2024-02-29", "2024-02-29"],
    ["date", "29/02/2024", "2024-02-29"],
    ["date", "1/2/2024", "2024-02-01"],
    ["date", " 31/12/1999 ", "1999-12-31"],
    ["date", "0099-03-01", "0099-03-01"],
    ["date", "0000-02-29", "0000-02-29"],
    ["url", "https://example.com/x?y=1", "https://example.com/x?y=1"],
    ["url", "example.com/x", "https://example.com/x"],
    ["url", "HTTP://Example.com", "HTTP://Example.com"],
    ["url", "localhost:3000", "https://localhost:3000"],
    ["url", "example.com:8080/path", "https://example.com:8080/path"],
    ["url", "https://[::1]/", "https://[::1]/"],
    ["url", "www.exemple.fr/café", "https://www.exemple.fr/café"],
  ])("accepts a %s answer %j as %j", (type, raw, value) => {
    expect(validateFieldValue(type, raw)).toEqual({ ok: true, value });
  });

  it.each<[FieldType, string]>([
    ["text", ""],
    ["text", " \n\t "],
    ["text", "x".repeat(2001)],
    ["email", "ada"],
    ["email", "ada@"],
    ["email", "@example.com"],
    ["email", "ada@example"],
    ["email", "a..b@example.com"],
    ["email", ".a@example.com"],
    ["email", "a.@example.com"],
    ["email", "ada@exa mple.com"],
    ["email", "ada@-example.com"],
    ["email", "ada@example.c"],
    ["email", "a@b@example.com"],
    ["email", "ada@example..com"],
    ["email", "ada@[127.0.0.1]"],
    ["email", "ada@example.com\nbcc: eve@example.com"],
    ["email", `${"a".repeat(65)}@example.com`],
    ["email", '"ada"@example.com'],
    ["phone", "12345"],
    ["phone", "+1234567890123456"],
    ["phone", "+33 6 12+34 56"],
    ["phone", "call me"],
    ["phone", "+"],
    ["phone", "١٢٣٤٥٦٧"],
    ["phone", "0612345678 ext"],
    ["number", "1e3"],
    ["number", "1,000.5"],
    ["number", "abc"],
    ["number", "Infinity"],
    ["number", "NaN"],
    ["number", "0x10"],
    ["number", "1.2.3"],
    ["number", "-"],
    ["number", "9".repeat(400)],
    ["date", "2023-02-29"],
    ["date", "31/04/2024"],
    ["date", "2024-13-01"],
    ["date", "2024-00-10"],
    ["date", "2024-01-00"],
    ["date", "2024-1-1"],
    ["date", "2024/01/01"],
    ["date", "12/31/2024"],
    ["date", "tomorrow"],
    ["url", "ftp://example.com/file"],
    ["url", "javascript:alert(1)"],
    ["url", "mailto:ada@example.com"],
    ["url", "no"],
    ["url", "https://exa mple.com"],
    ["url", "http://"],
    ["url", `https://example.com/${"x".repeat(2048)}`],
  ])("refuses a %s answer %j with a reason", (type, raw) => {
    const result = validateFieldValue(type, raw);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason.length > 0).toBe(true);
  });

  it("returns either a value or a reason for any text, never throwing", () => {
    const types: FieldType[] = ["text", "email", "phone", "number", "date", "url"];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.string({ unit: "grapheme", maxLength: 60 }), (type, raw) => {
        const result = validateFieldValue(type, raw);
        if (result.ok) {
          if (type === "number") expect(Number.isFinite(result.value)).toBe(true);
          else expect(typeof result.value).toBe("string");
        } else {
          expect(typeof result.reason).toBe("string");
        }
      }),
      { numRuns: 500 },
    );
  });

  it("gives back numbers that print as the decimal the visitor typed", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        fc.integer({ min: 0, max: 99 }),
        (whole, cents) => {
          const typed = `${whole},${String(cents).padStart(2, "0")}`;
          const result = validateFieldValue("number", typed);
          expect(result).toEqual({ ok: true, value: Number(typed.replace(",", ".")) });
        },
      ),
    );
  });
});

describe("compareValues", () => {
  it.each<[string, CompareOperator, string, boolean, boolean]>([
    ["Pro", "equals", "pro", false, true],
    ["Pro", "equals", "pro", true, false],
    ["ÉCOLE", "equals", "école", false, true],
    ["pro ", "equals", "pro", false, false],
    ["Pro", "not_equals", "pro", false, false],
    ["Pro", "not_equals", "pro", true, true],
    ["Hello World", "contains", "WORLD", false, true],
    ["Hello World", "contains", "WORLD", true, false],
    ["Hello World", "contains", "", false, true],
    ["Hello World", "not_contains", "planet", false, true],
    ["Hello World", "not_contains", "world", false, false],
    ["order-123", "regex", "^order-\\d+$", false, true],
    ["ORDER-123", "regex", "^order-\\d+$", false, true],
    ["ORDER-123", "regex", "^order-\\d+$", true, false],
    ["été", "regex", "^\\p{L}+$", true, true],
    ["a-b", "regex", "a\\-b", true, true],
    ["anything", "regex", "([", false, false],
    ["anything", "regex", "(?<", false, false],
    ["a".repeat(501), "regex", "a".repeat(501), false, false],
    ["a".repeat(500), "regex", "a".repeat(500), false, true],
    ["a".repeat(10_001), "regex", "a", false, false],
    ["a".repeat(10_000), "regex", "a$", false, true],
    ["10", "gt", "9", false, true],
    ["10,5", "gt", "10", false, true],
    ["9", "gt", "10", false, false],
    ["abc", "gt", "1", false, false],
    ["1", "gt", "abc", false, false],
    ["", "lt", "1", false, false],
    ["5", "gte", "5.0", false, true],
    ["4.99", "gte", "5", false, false],
    ["-2", "lt", "-1", false, true],
    ["3", "lte", "3", false, true],
    [" 3 ", "lte", "2", false, false],
    ["x", "is_set", "", false, true],
    [" \n", "is_set", "", false, false],
    ["", "is_not_set", "", false, true],
    ["0", "is_not_set", "", false, false],
  ])("%j %s %j (case-sensitive: %s) is %s", (left, operator, right, caseSensitive, expected) => {
    expect(compareValues(left, operator, right, caseSensitive)).toBe(expected);
  });

  it("never throws whatever the pattern", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        fc.boolean(),
        (left, pattern, cs) => {
          expect(typeof compareValues(left, "regex", pattern, cs)).toBe("boolean");
        },
      ),
      { numRuns: 500 },
    );
  });

  it("keeps not_equals and not_contains the negations of equals and contains", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.string({ maxLength: 3 }), fc.boolean(), (a, b, cs) => {
        expect(compareValues(a, "not_equals", b, cs)).toBe(!compareValues(a, "equals", b, cs));
        expect(compareValues(a, "not_contains", b, cs)).toBe(!compareValues(a, "contains", b, cs));
      }),
    );
  });
});

describe("messageMatches", () => {
  it.each<[string, "contains" | "any_word" | "regex", string, boolean, boolean]>([
    ["I want a REFUND now", "contains", "refund", false, true],
    ["I want a REFUND now", "contains", "refund", true, false],
    ["I want a refund", "contains", "", false, false],
    ["I want a refund", "any_word", "refund, money", false, true],
    ["Show me the money", "any_word", "refund,money", false, true],
    ["I got refunded", "any_word", "refund", false, false],
    ["a refund.", "any_word", "refund", false, true],
    ["«refund»", "any_word", "refund", false, true],
    ["un café au lait", "any_word", "café", false, true],
    ["des cafés", "any_word", "café", false, false],
    ["ÜBER alles", "any_word", "über", false, true],
    ["ÜBER alles", "any_word", "über", true, false],
    ["c++ rocks", "any_word", "c++", false, true],
    ["I ❤️ pizza 🍕", "any_word", "🍕", false, true],
    ["hello_world", "any_word", "hello", false, false],
    ["hello-world", "any_word", "hello", false, true],
    ["(price)", "any_word", "price", false, true],
    ["naïve", "any_word", "nai", false, false],
    ["anything", "any_word", " , ", false, false],
    ["line one\nhelp\nline three", "any_word", "help", false, true],
    ["Order #123", "regex", "#\\d+", false, true],
    ["Order #abc", "regex", "#\\d+", false, false],
    ["Order", "regex", "(", false, false],
  ])("%j %s %j (case-sensitive: %s) is %s", (text, mode, value, caseSensitive, expected) => {
    expect(messageMatches(text, mode, value, caseSensitive)).toBe(expected);
  });
});

describe("urlMatches", () => {
  it.each<[string, "any" | "equals" | "contains" | "starts_with" | "regex", string, boolean]>([
    ["https://example.com/a", "any", "", true],
    ["https://example.com/", "equals", "https://example.com", true],
    ["https://EXAMPLE.com/a", "equals", "https://example.com/a", true],
    ["https://example.com/a", "equals", "https://example.com/A", false],
    ["https://example.com/a?x=1", "equals", "https://example.com/a", false],
    ["not a url", "equals", "not a url", true],
    ["https://example.com/pricing?plan=pro", "contains", "/pricing", true],
    ["https://example.com/blog/post", "starts_with", "https://example.com/blog", true],
    ["https://example.com/about", "starts_with", "https://example.com/blog", false],
    ["https://example.com/b", "regex", "^https://example\\.com/(a|b)$", true],
    ["https://example.com/c", "regex", "^https://example\\.com/(a|b)$", false],
    ["https://example.com/c", "regex", "[", false],
  ])("%j %s %j is %s", (url, mode, value, expected) => {
    expect(urlMatches(url, mode, value)).toBe(expected);
  });
});

describe("withinBusinessHours", () => {
  const weekdays = [{ days: [1, 2, 3, 4, 5], from: "09:00", to: "18:00" }];
  const at = (iso: string) => Date.parse(iso);

  it.each([
    ["Paris, a Friday at 08:30 in winter time", "Europe/Paris", "2024-03-29T07:30:00Z", false],
    ["Paris, a Friday at 09:00 exactly (from is inclusive)", "Europe/Paris", "2024-03-29T08:00:00Z", true],
    [
      "Paris, a Friday at 09:30 in summer time (same UTC hour as the 08:30 above)",
      "Europe/Paris",
      "2024-04-05T07:30:00Z",
      true,
    ],
    ["Paris, a Friday at 17:59", "Europe/Paris", "2024-04-05T15:59:00Z", true],
    ["Paris, a Friday at 18:00 exactly (to is exclusive)", "Europe/Paris", "2024-04-05T16:00:00Z", false],
    ["Paris, a Saturday at noon", "Europe/Paris", "2024-03-30T11:00:00Z", false],
    ["New York, a Friday at 08:30 in standard time", "America/New_York", "2024-03-08T13:30:00Z", false],
    [
      "New York, a Monday at 09:30 in daylight time (same UTC hour)",
      "America/New_York",
      "2024-03-11T13:30:00Z",
      true,
    ],
    [
      "New York, a Friday at 09:30 before daylight time ends",
      "America/New_York",
      "2024-11-01T13:30:00Z",
      true,
    ],
    [
      "New York, a Monday at 08:30 after daylight time ends",
      "America/New_York",
      "2024-11-04T13:30:00Z",
      false,
    ],
  ])("%s: %s at %s is %s", (_, timezone, iso, expected) => {
    expect(withinBusinessHours(at(iso), timezone, weekdays)).toBe(expected);
  });

  it("takes the weekday in the time zone, not in UTC", () => {
    // Friday 23:30 UTC is Saturday 00:30 in Paris and Friday 19:30 in New York.
    const now = at("2024-03-29T23:30:00Z");
    const saturdayNight = [{ days: [6], from: "00:00", to: "01:00" }];
    expect(withinBusinessHours(now, "Europe/Paris", saturdayNight)).toBe(true);
    expect(withinBusinessHours(now, "UTC", saturdayNight)).toBe(false);
    expect(withinBusinessHours(now, "America/New_York", [{ days: [5], from: "19:00", to: "20:00" }])).toBe(
      true,
    );
  });

  it("follows the spring-forward jump in Paris", () => {
    // 01:30 UTC on 31 March 2024 is 03:30 CEST; an hour earlier it was 01:30 CET.
    const early = [{ days: [0], from: "03:00", to: "04:00" }];
    expect(withinBusinessHours(at("2024-03-31T01:30:00Z"), "Europe/Paris", early)).toBe(true);
    expect(withinBusinessHours(at("2024-03-31T00:30:00Z"), "Europe/Paris", early)).toBe(false);
  });

  const fridayNight = [{ days: [5], from: "22:00", to: "06:00" }];
  it.each([
    ["Friday 23:00", "2024-04-05T21:00:00Z", true],
    ["Friday 22:00", "2024-04-05T20:00:00Z", true],
    ["Friday 21:59", "2024-04-05T19:59:00Z", false],
    ["Saturday 03:00", "2024-04-06T01:00:00Z", true],
    ["Saturday 06:00", "2024-04-06T04:00:00Z", false],
    ["Friday 03:00 (Thursday is not listed)", "2024-04-05T01:00:00Z", false],
    ["Saturday 23:00 (Saturday is not listed)", "2024-04-06T21:00:00Z", false],
  ])("a Friday night range crossing midnight in Paris includes %s: %s", (_, iso, expected) => {
    expect(withinBusinessHours(at(iso), "Europe/Paris", fridayNight)).toBe(expected);
  });

  it("carries a Saturday night range into Sunday morning across the week's end", () => {
    const saturdayNight = [{ days: [6], from: "22:00", to: "06:00" }];
    expect(withinBusinessHours(at("2024-04-07T02:00:00Z"), "UTC", saturdayNight)).toBe(true);
    expect(withinBusinessHours(at("2024-04-08T02:00:00Z"), "UTC", saturdayNight)).toBe(false);
  });

  it("treats a range from a time to the same time as the whole day", () => {
    const sundays = [{ days: [0], from: "00:00", to: "00:00" }];
    expect(withinBusinessHours(at("2024-04-07T23:59:00Z"), "UTC", sundays)).toBe(true);
    expect(withinBusinessHours(at("2024-04-08T00:00:00Z"), "UTC", sundays)).toBe(false);
  });

  it("is open when any of several ranges is", () => {
    const split = [
      { days: [1], from: "09:00", to: "12:00" },
      { days: [1], from: "14:00", to: "18:00" },
    ];
    expect(withinBusinessHours(at("2024-04-08T10:00:00Z"), "UTC", split)).toBe(true);
    expect(withinBusinessHours(at("2024-04-08T13:00:00Z"), "UTC", split)).toBe(false);
    expect(withinBusinessHours(at("2024-04-08T15:00:00Z"), "UTC", split)).toBe(true);
  });

  it("is never open in an unknown time zone or without ranges", () => {
    expect(withinBusinessHours(at("2024-04-08T10:00:00Z"), "Mars/Olympus_Mons", weekdays)).toBe(false);
    expect(withinBusinessHours(at("2024-04-08T10:00:00Z"), "UTC", [])).toBe(false);
  });
});

describe("pickWeighted", () => {
  it.each([
    [[1, 1], 0, "a"],
    [[1, 1], 0.4999, "a"],
    [[1, 1], 0.5, "b"],
    [[1, 1], 0.9999, "b"],
    [[70, 30], 0.6999, "a"],
    [[70, 30], 0.7, "b"],
    [[0, 3], 0, "b"],
    [[1, 0, 1], 0.5, "c"],
    [[1, 0, 1], 0.49, "a"],
    [[2, 3, 0], 1, "b"],
  ])("with weights %j and random %s picks %s", (weights, random, expected) => {
    const branches = weights.map((weight, i) => ({ name: "abc"[i]!, weight }));
    expect(pickWeighted(branches, random)).toBe(expected);
  });

  it("picks branches in proportion to their weights and never a branch of weight 0", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 2, maxLength: 6 }), (weights) => {
        fc.pre(weights.some((w) => w > 0));
        const branches = weights.map((weight, i) => ({ name: `b${i}`, weight }));
        const total = weights.reduce((a, b) => a + b, 0);
        const steps = total * 50;
        const counts = new Map<string, number>();
        for (let i = 0; i < steps; i++) {
          const name = pickWeighted(branches, i / steps);
          counts.set(name, (counts.get(name) ?? 0) + 1);
        }
        // Exact shares, give or take the floating-point rounding of a boundary on each side.
        for (const [i, w] of weights.entries()) {
          const count = counts.get(`b${i}`) ?? 0;
          if (w === 0) expect(count).toBe(0);
          else expect(Math.abs(count - w * 50)).toBeLessThanOrEqual(2);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe("readPath", () => {
  const body = {
    data: {
      status: "ok",
      count: 2,
      paid: false,
      missing: null,
      items: [{ id: 7 }, { id: 8, tags: ["a", "b"] }],
      "with-dash": "dash",
      $meta: "dollar",
    },
  };

  it.each([
    ["data.status", "ok"],
    ["data.count", 2],
    ["data.paid", false],
    ["data.missing", undefined],
    ["data.nothing", undefined],
    ["data.items.1.id", 8],
    ["data.items.1.tags.0", "a"],
    ["data.items.5", undefined],
    ["data.items.x", undefined],
    ["data.items.length", undefined],
    ["data.items", '[{"id":7},{"id":8,"tags":["a","b"]}]'],
    ["data.items.1", '{"id":8,"tags":["a","b"]}'],
    ["data.status.length", undefined],
    ["data.with-dash", "dash"],
    ["data.$meta", "dollar"],
    ["constructor", undefined],
    ["data.__proto__", undefined],
    ["data.toString", undefined],
  ])("reads %s", (path, expected) => {
    expect(readPath(body, path)).toEqual(expected);
  });

  it("reads into a top-level array and returns scalars at the top", () => {
    expect(readPath([{ a: 1 }], "0.a")).toBe(1);
    expect(readPath("plain", "")).toBe("plain");
    expect(readPath(null, "")).toBeUndefined();
    expect(readPath(null, "a")).toBeUndefined();
  });

  it("cuts long strings and JSON to 2000 characters without splitting an emoji", () => {
    expect(readPath({ s: "x".repeat(5000) }, "s")).toBe("x".repeat(2000));
    const json = readPath({ a: ["y".repeat(3000)] }, "a");
    expect(json).toBe(`["${"y".repeat(1998)}`);
    const emoji = readPath({ s: `${"x".repeat(1999)}😀` }, "s");
    expect(emoji).toBe("x".repeat(1999));
  });
});
