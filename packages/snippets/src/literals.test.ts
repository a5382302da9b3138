import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NASTY, nastyString } from "../test/arbitraries.ts";
import { findInterpreters, run } from "../test/interpreters.ts";
import {
  isInvisible,
  jsonString,
  jsString,
  numberText,
  phpString,
  pythonString,
  rubyString,
  shellQuote,
} from "./literals.ts";

const sample = <T>(arb: fc.Arbitrary<T>, numRuns: number, seed: number) => fc.sample(arb, { numRuns, seed });

const numbers = () =>
  fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.constantFrom(
      0,
      -0,
      1e21,
      1e-7,
      5e-324,
      Number.MAX_VALUE,
      -Number.MAX_SAFE_INTEGER - 2,
      2 ** 63,
      0.1 + 0.2,
    ),
  );

// The value every literal must evaluate to: what a UTF-8 encoder makes of the string.
const expected = (s: string) => s.toWellFormed();

describe("string literals in JavaScript and JSON", () => {
  it("evaluate to the string, in each quoting and HTML mode", () => {
    fc.assert(
      fc.property(nastyString(), fc.constantFrom<'"' | "'">('"', "'"), (s, quote) => {
        for (const html of [undefined, "script", "attribute"] as const) {
          const literal = jsString(s, { quote, ...(html ? { html } : {}) });
          expect(new Function(`return ${literal};`)()).toBe(expected(s));
        }
        expect(JSON.parse(jsonString(s))).toBe(expected(s));
      }),
      { numRuns: 2000 },
    );
  });

  it("hold no invisible character, and nothing HTML could end early", () => {
    fc.assert(
      fc.property(nastyString(), (s) => {
        for (const literal of [
          jsString(s),
          jsonString(s),
          phpString(s),
          rubyString(s),
          pythonString(s),
          jsString(s, { html: "script" }),
        ])
          expect([...literal].filter(isInvisible)).toEqual([]);
        expect(jsString(s, { html: "script" })).not.toContain("<");
        expect(jsString(s, { quote: "'", html: "attribute" })).not.toMatch(/["&]/);
      }),
      { numRuns: 1000 },
    );
  });

  it("numbers: refuses what JSON cannot carry", () => {
    expect(() => numberText(Number.NaN)).toThrow(RangeError);
    expect(() => numberText(Number.POSITIVE_INFINITY)).toThrow(/JSON has no such number/);
    expect(numberText(-0)).toBe("0");
  });
});

/**
 * Each language's literals evaluated by its real interpreter, in one program per language: the
 * program prints the values back as JSON (or NUL-separated for the shell).
 */
describe("string and number literals in their real interpreters", () => {
  const strings = [...NASTY, NASTY.join(""), ...sample(nastyString(40), 400, 42)];
  const nums = [...sample(numbers(), 200, 7)];
  const expectedNumbers = nums.map((n) => JSON.parse(JSON.stringify(n)) as number);

  it("Python", async () => {
    const i = findInterpreters();
    const program = `import json, sys\nstrings = [\n${strings.map((s) => `    ${pythonString(s)},`).join("\n")}\n]\nnumbers = [${nums.map(numberText).join(", ")}]\nsys.stdout.write(json.dumps([strings, numbers]))\n`;
    const result = await runProgram(i.python, "literals.py", program);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual([strings.map(expected), expectedNumbers]);
  });

  it("PHP", async () => {
    const i = findInterpreters();
    const program = `<?php\n$strings = [\n${strings.map((s) => `    ${phpString(s)},`).join("\n")}\n];\n$numbers = [${nums.map(numberText).join(", ")}];\necho json_encode([$strings, $numbers], JSON_THROW_ON_ERROR);\n`;
    const result = await runProgram(i.php, "literals.php", program);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual([strings.map(expected), expectedNumbers]);
  });

  it("Ruby", async () => {
    const i = findInterpreters();
    const program = `require "json"\nstrings = [\n${strings.map((s) => `  ${rubyString(s)},`).join("\n")}\n]\nnumbers = [${nums.map(numberText).join(", ")}]\nprint JSON.generate([strings, numbers])\n`;
    const result = await runProgram(i.ruby, "literals.rb", program);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual([strings.map(expected), expectedNumbers]);
  });

  it("POSIX shell (no argument can hold a NUL, so none is given)", async () => {
    const i = findInterpreters();
    const words = strings.map((s) => s.replaceAll("\0", ""));
    const program = `printf '%s\\0' ${words.map(shellQuote).join(" ")}\n`;
    const result = await runProgram(i.sh, "literals.sh", program);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\0").slice(0, -1)).toEqual(words.map(expected));
    expect(() => shellQuote("a\0b")).toThrow(RangeError);
  });
});

async function runProgram(command: string, name: string, program: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hugo-literals-"));
  try {
    fs.writeFileSync(path.join(dir, name), program);
    const result = await run(command, [path.join(dir, name)]);
    expect(result.code, result.stderr).toBe(0);
    return result;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
