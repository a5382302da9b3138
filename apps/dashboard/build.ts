import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** The dashboard's folder and its build, which Hugo serves at /app/. */
export const DASHBOARD_DIR = import.meta.dirname;
export const DASHBOARD_DIST = path.join(DASHBOARD_DIR, "dist");

/** What the bundle is made of: the app, its config, and the typed client it bundles. */
const SOURCES = [
  path.join(DASHBOARD_DIR, "src"),
  path.join(DASHBOARD_DIR, "public"),
  path.join(DASHBOARD_DIR, "index.html"),
  path.join(DASHBOARD_DIR, "vite.config.ts"),
  path.join(DASHBOARD_DIR, "package.json"),
  path.join(DASHBOARD_DIR, "..", "..", "packages", "client", "src"),
];

function newest(file: string): number {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...fs.readdirSync(file).map((name) => newest(path.join(file, name))));
}

/**
 * Builds the dashboard when `dist` is missing or older than its sources: the root `prepare` script
 * built it on install, but scripts may have been off (`--ignore-scripts`) or a source changed since.
 * Browser tests and the bench call it so they never measure a stale build. Suites run in parallel:
 * a lock directory lets one process build while the others wait, then find the build fresh.
 */
export async function ensureDashboardBuilt(): Promise<"fresh" | "built"> {
  if (fresh()) return "fresh";
  const lock = `${DASHBOARD_DIST}.lock`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A lock left by a process that died mid-build is older than any build takes.
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 60_000) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is held by another build for too long`);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (fresh()) return "fresh";
    await viteBuild();
    return "built";
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function fresh(): boolean {
  const built =
    fs.statSync(path.join(DASHBOARD_DIST, "index.html"), { throwIfNoEntry: false })?.mtimeMs ?? -1;
  return built >= Math.max(...SOURCES.map(newest));
}

async function viteBuild(): Promise<void> {
  // A child process, as `npm run build` runs it: inside a test runner NODE_ENV is "test", which
  // would give React's development build.
  const vite = path.join(
    path.dirname(createRequire(import.meta.url).resolve("vite/package.json")),
    "bin",
    "vite.js",
  );
  const child = spawn(process.execPath, [vite, "build", "--logLevel", "warn"], {
    cwd: DASHBOARD_DIR,
    env: { ...process.env, NODE_ENV: "production" },
    stdio: ["ignore", "inherit", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  if (code !== 0) throw new Error(`vite build failed (${code}): ${stderr.slice(-2000)}`);
}
