import fs from "node:fs";
import { runCommand, usage } from "./cli/command.ts";
import { COMMANDS, lookup, overview } from "./cli/commands.ts";
import { serve } from "./cli/serve.ts";

const [major] = process.versions.node.split(".").map(Number);
if ((major ?? 0) < 22) {
  console.error(
    `Hugo needs Node.js 22 or newer (found ${process.version}). Run scripts/node24.sh to fetch Node 24.`,
  );
  process.exit(1);
}

async function main(argv: string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined) return runCommand(serve, [], process.env);
  if (first === "--help" || first === "-h" || first === "help") {
    const target = argv.length > 1 ? lookup(argv.slice(1)) : undefined;
    process.stdout.write(target ? usage(target.command) : overview());
    return target || argv.length === 1 ? 0 : 2;
  }
  if (first === "--version" || first === "-v") {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    process.stdout.write(`hugo ${pkg.version} (Node ${process.version})\n`);
    return 0;
  }
  const found = lookup(argv);
  if (!found) {
    // A group name alone (`hugo token`) lists its commands.
    const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    const known = group.length > 0 && argv.length === 1;
    const stream = known ? process.stdout : process.stderr;
    if (!known) stream.write(`hugo: unknown command '${argv.join(" ")}'\n\n`);
    stream.write(
      group.length > 0
        ? `${group.map((c) => `  hugo ${c.name.padEnd(16)}${c.summary}`).join("\n")}\n`
        : overview(),
    );
    return known ? 0 : 2;
  }
  return runCommand(found.command, found.rest, process.env);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
