import type { CompareOperator, FieldType, VariableValue } from "@hugo/protocol";

// ── field answers ─────────────────────────────────────────────────────────────────────────────

export type FieldResult = { ok: true; value: string | number } | { ok: false; reason: string };

const MAX_TEXT = 2000;

const EMAIL_LOCAL = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\\.[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+)*";
const EMAIL_LABEL = "[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])?";
const EMAIL_TLD = "(?:\\p{L}{2,63}|xn--[a-z0-9-]{1,59})";
const EMAIL_RE = new RegExp(`^(${EMAIL_LOCAL})@((?:${EMAIL_LABEL}\\.)+${EMAIL_TLD})$`, "u");

const DECIMAL_RE = /^[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)$/;

/** A finite decimal number, with `.` or `,` as the decimal separator; undefined otherwise. */
function parseDecimal(raw: string): number | undefined {
  const text = raw.trim();
  if (!DECIMAL_RE.test(text)) return undefined;
  const value = Number(text.replace(",", "."));
  return Number.isFinite(value) ? value : undefined;
}

function realDate(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1) return undefined;
  const date = new Date(0);
  // Not Date.UTC: it maps years 0–99 to 1900–1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** Checks a visitor's answer to a field of this type and returns it normalised. */
export function validateFieldValue(type: FieldType, raw: string): FieldResult {
  const text = raw.trim();
  if (text === "") return { ok: false, reason: "the answer is empty" };
  switch (type) {
    case "text":
      return text.length <= MAX_TEXT
        ? { ok: true, value: text }
        : { ok: false, reason: `the answer is longer than ${MAX_TEXT} characters` };
    case "email": {
      const email = text.toLowerCase();
      const match = email.length <= 254 ? EMAIL_RE.exec(email) : null;
      if (!match || match[1]!.length > 64) return { ok: false, reason: "not an email address" };
      return { ok: true, value: email };
    }
    case "phone": {
      if (!/^\+?[0-9 ().-]+$/.test(text)) return { ok: false, reason: "not a phone number" };
      const digits = text.replace(/\D/g, "");
      if (digits.length < 6 || digits.length > 15) {
        return { ok: false, reason: "a phone number has 6 to 15 digits" };
      }
      return { ok: true, value: text.startsWith("+") ? `+${digits}` : digits };
    }
    case "number": {
      const value = parseDecimal(text);
      return value === undefined ? { ok: false, reason: "not a number" } : { ok: true, value };
    }
    case "date": {
      let date: string | undefined;
      const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
      const european = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
      if (iso) date = realDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
      else if (european) date = realDate(Number(european[3]), Number(european[2]), Number(european[1]));
      else return { ok: false, reason: "a date is written YYYY-MM-DD or DD/MM/YYYY" };
      return date === undefined ? { ok: false, reason: "not a real date" } : { ok: true, value: date };
    }
    case "url": {
      if (text.length > 2048 || /\s/.test(text)) return { ok: false, reason: "not a web address" };
      let url = text;
      if (!/^https?:\/\//i.test(url)) {
        // `ftp://…`, `javascript:…`: another scheme, not a bare host.
        if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[a-z][a-z0-9+.-]*:(?!\d)/i.test(url)) {
          return { ok: false, reason: "only http and https addresses are accepted" };
        }
        url = `https://${url}`;
      }
      if (!URL.canParse(url)) return { ok: false, reason: "not a web address" };
      const host = new URL(url).hostname;
      // A bare word such as "no" parses as a host; a web address has a dot (or is an IP literal).
      if (!host.includes(".") && !host.startsWith("[") && host !== "localhost") {
        return { ok: false, reason: "not a web address" };
      }
      return { ok: true, value: url };
    }
    default:
      return { ok: false, reason: `unknown field type ${String(type)}` };
  }
}

// ── comparisons ───────────────────────────────────────────────────────────────────────────────

const MAX_PATTERN = 500;
const MAX_REGEX_INPUT = 10_000;
const regexCache = new Map<string, RegExp | null>();

/** Compiles an author's pattern (unicode when it allows), or null when it is invalid or too long. */
function compile(pattern: string, caseSensitive: boolean): RegExp | null {
  if (pattern.length > MAX_PATTERN) return null;
  const key = `${caseSensitive ? "s" : "i"}${pattern}`;
  const cached = regexCache.get(key);
  if (cached !== undefined) return cached;
  let regex: RegExp | null = null;
  for (const flags of ["u", ""]) {
    try {
      regex = new RegExp(pattern, caseSensitive ? flags : `${flags}i`);
      break;
    } catch {}
  }
  if (regexCache.size >= 500) regexCache.clear();
  regexCache.set(key, regex);
  return regex;
}

/**
 * Tests an author's pattern against visitor text. Invalid patterns are false. Length caps bound
 * the cost of ordinary patterns; they do not make nested quantifiers such as `(a+)+$` safe.
 */
function regexTest(text: string, pattern: string, caseSensitive: boolean): boolean {
  if (text.length > MAX_REGEX_INPUT) return false;
  const regex = compile(pattern, caseSensitive);
  return regex?.test(text) ?? false;
}

const fold = (text: string, caseSensitive: boolean) => (caseSensitive ? text : text.toLowerCase());

/** Compares two rendered values; numeric operators are false unless both sides are numbers. */
export function compareValues(
  left: string,
  operator: CompareOperator,
  right: string,
  caseSensitive: boolean,
): boolean {
  switch (operator) {
    case "equals":
      return fold(left, caseSensitive) === fold(right, caseSensitive);
    case "not_equals":
      return fold(left, caseSensitive) !== fold(right, caseSensitive);
    case "contains":
      return fold(left, caseSensitive).includes(fold(right, caseSensitive));
    case "not_contains":
      return !fold(left, caseSensitive).includes(fold(right, caseSensitive));
    case "regex":
      return regexTest(left, right, caseSensitive);
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const a = parseDecimal(left);
      const b = parseDecimal(right);
      if (a === undefined || b === undefined) return false;
      if (operator === "gt") return a > b;
      if (operator === "gte") return a >= b;
      if (operator === "lt") return a < b;
      return a <= b;
    }
    case "is_set":
      return left.trim() !== "";
    case "is_not_set":
      return left.trim() === "";
    default:
      return false;
  }
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Does a visitor message match: contains a text, holds any of some whole words, or matches a pattern. */
export function messageMatches(
  text: string,
  mode: "contains" | "any_word" | "regex",
  value: string,
  caseSensitive: boolean,
): boolean {
  switch (mode) {
    case "contains":
      return value !== "" && fold(text, caseSensitive).includes(fold(value, caseSensitive));
    case "any_word": {
      const words = value.split(/[\s,]+/u).filter((w) => w !== "");
      if (words.length === 0) return false;
      // \b is ASCII-only; letters, digits and marks of any script count as word characters here.
      const regex = new RegExp(
        `(?<![\\p{L}\\p{N}\\p{M}_])(?:${words.map(escapeRegex).join("|")})(?![\\p{L}\\p{N}\\p{M}_])`,
        caseSensitive ? "u" : "iu",
      );
      return regex.test(text);
    }
    case "regex":
      return regexTest(text, value, caseSensitive);
    default:
      return false;
  }
}

const canonicalUrl = (url: string): string => (URL.canParse(url) ? new URL(url).href : url);

/** Does a page URL match; `equals` ignores what URL parsing normalises (host case, a root `/`). */
export function urlMatches(
  url: string,
  mode: "any" | "equals" | "contains" | "starts_with" | "regex",
  value: string,
): boolean {
  switch (mode) {
    case "any":
      return true;
    case "equals":
      return url === value || canonicalUrl(url.trim()) === canonicalUrl(value.trim());
    case "contains":
      return url.includes(value);
    case "starts_with":
      return url.startsWith(value);
    case "regex":
      return regexTest(url, value, true);
    default:
      return false;
  }
}

// ── business hours ────────────────────────────────────────────────────────────────────────────

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function localTime(now: number, timezone: string): { day: number; minutes: number } | undefined {
  let format = formatters.get(timezone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone: timezone,
        weekday: "short",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      });
    } catch {
      return undefined;
    }
    formatters.set(timezone, format);
  }
  let day: number | undefined;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(now)) {
    if (part.type === "weekday") day = WEEKDAYS[part.value];
    else if (part.type === "hour") hour = Number(part.value) % 24;
    else if (part.type === "minute") minute = Number(part.value);
  }
  return day === undefined ? undefined : { day, minutes: hour * 60 + minute };
}

const toMinutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
};

/**
 * Is `now` within the opening hours, in this time zone. `from` is inclusive, `to` exclusive; a
 * range whose `to` is before `from` crosses midnight into the next day, and `from` = `to` is the
 * whole day. An unknown time zone is never open.
 */
export function withinBusinessHours(
  now: number,
  timezone: string,
  hours: { days: number[]; from: string; to: string }[],
): boolean {
  const local = localTime(now, timezone);
  if (!local) return false;
  const { day, minutes } = local;
  const yesterday = (day + 6) % 7;
  return hours.some((range) => {
    const from = toMinutes(range.from);
    const to = toMinutes(range.to);
    if (from === to) return range.days.includes(day);
    if (from < to) return range.days.includes(day) && minutes >= from && minutes < to;
    return (range.days.includes(day) && minutes >= from) || (range.days.includes(yesterday) && minutes < to);
  });
}

// ── A/B split ─────────────────────────────────────────────────────────────────────────────────

/** Picks a branch by weight; `random` is in [0, 1). Branches of weight 0 are never picked. */
export function pickWeighted(branches: { name: string; weight: number }[], random: number): string {
  const weightOf = (w: number) => (Number.isFinite(w) && w > 0 ? w : 0);
  const total = branches.reduce((sum, b) => sum + weightOf(b.weight), 0);
  if (total === 0) return branches[0]?.name ?? "";
  const target = Math.min(Math.max(random, 0), 1) * total;
  let last = "";
  let cumulative = 0;
  for (const branch of branches) {
    const weight = weightOf(branch.weight);
    if (weight === 0) continue;
    cumulative += weight;
    last = branch.name;
    if (target < cumulative) return branch.name;
  }
  // random = 1 (or rounding) lands past the end: the last weighted branch.
  return last;
}

// ── JSON paths ────────────────────────────────────────────────────────────────────────────────

const MAX_VALUE = 2000;

/** Cuts to the variable size limit without splitting a surrogate pair. */
function truncate(text: string): string {
  if (text.length <= MAX_VALUE) return text;
  const cut = text.slice(0, MAX_VALUE);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/**
 * Reads a dotted path (`data.items.0.id`) in parsed JSON. Scalars come back as they are (strings
 * cut to 2000 characters), objects and arrays as their JSON; null and missing as undefined.
 */
export function readPath(value: unknown, path: string): VariableValue | undefined {
  let current: unknown = value;
  if (path !== "") {
    for (const segment of path.split(".")) {
      if (Array.isArray(current)) {
        if (!/^\d+$/.test(segment)) return undefined;
        current = current[Number(segment)];
      } else if (typeof current === "object" && current !== null) {
        if (!Object.hasOwn(current, segment)) return undefined;
        current = (current as Record<string, unknown>)[segment];
      } else {
        return undefined;
      }
    }
  }
  switch (typeof current) {
    case "string":
      return truncate(current);
    case "number":
      return Number.isFinite(current) ? current : undefined;
    case "boolean":
      return current;
    case "object":
      return current === null ? undefined : truncate(JSON.stringify(current));
    default:
      return undefined;
  }
}
