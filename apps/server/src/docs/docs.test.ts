import fs from "node:fs";
import path from "node:path";
import { ERROR_REASONS } from "@hugo/protocol";
import { describe, expect, it } from "vitest";
import { ENV_VARS } from "../config.ts";
import { cliMarkdown, errorsMarkdown, ROOT, readmeWithConfig } from "./generate.ts";

describe("generated documentation", () => {
  it("docs/ERRORS.md lists exactly the error catalog (run `npm run docs` after changing it)", () => {
    const onDisk = fs.readFileSync(path.join(ROOT, "docs/ERRORS.md"), "utf8");
    expect(onDisk).toBe(errorsMarkdown());
    for (const reason of ERROR_REASONS) expect(onDisk).toContain(`\`${reason}\``);
  });

  it("docs/CLI.md is every command's --help (run `npm run docs` after changing a command)", () => {
    expect(fs.readFileSync(path.join(ROOT, "docs/CLI.md"), "utf8")).toBe(cliMarkdown());
  });

  it("README's configuration table lists every environment variable Hugo reads", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).toBe(readmeWithConfig(readme));
    for (const name of Object.keys(ENV_VARS)) expect(readme).toContain(`| \`${name}\` |`);
  });

  it("no source file reads an environment variable missing from the table", () => {
    const seen = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
          for (const m of fs.readFileSync(full, "utf8").matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)/g))
            seen.add(m[1]!);
        }
      }
    };
    walk(path.join(ROOT, "apps/server/src"));
    const undocumented = [...seen].filter((name) => !(name in ENV_VARS));
    expect(undocumented).toEqual([]);
  });
});
