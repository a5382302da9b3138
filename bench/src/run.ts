#!/usr/bin/env node
/**
 * `npm run bench`: runs every phase, prints the table and PASS/MISS per target, writes
 * .bench/results.json. Exits 0 whether targets pass or miss; non-zero only if the harness fails.
 */
import fs from "node:fs";
import path from "node:path";
import { runBench } from "./bench.ts";
import { parseOptions, USAGE, UsageError } from "./options.ts";
import { formatReport } from "./report.ts";

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2), process.env, (line) => console.error(`· ${line}`));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    console.log(USAGE);
    return 0;
  }
  const results = await runBench(options);
  console.log(`\n${formatReport(results)}`);
  fs.mkdirSync(options.outDir, { recursive: true });
  const file = path.join(options.outDir, "results.json");
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nResults: ${path.relative(process.cwd(), file) || file}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof UsageError) console.error(error.message);
    else console.error("bench failed:", error);
    process.exit(1);
  },
);
