#!/usr/bin/env node
// Plain JavaScript on purpose: it must run on any Node to explain what is missing, before the
// TypeScript entry point (loaded through Node's built-in type stripping, 22.18+) is imported.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `Hugo needs Node.js 22.18 or newer (found ${process.version}).\n` +
      "Run `source scripts/node24.sh` to fetch Node 24 from the npm registry and put it first on PATH.",
  );
  process.exit(1);
}
await import("../src/main.ts");
