/**
 * The dashboard phase: the JavaScript an operator's browser downloads. Which files each route loads
 * comes from the build's chunk graph (Vite's manifest, apps/dashboard/dist/.vite/manifest.json); each
 * file is then fetched from a running Hugo (`main.ts serve`, exactly what it serves at /app/) and
 * gzipped at level 6, like the widget's files.
 *
 * - The inbox route is what /app/ loads before anything else: the entry chunk and the chunks it
 *   imports statically, plus the inbox page's own chunk if it is split out (src/pages/inbox.tsx).
 * - Each other lazy route (React.lazy) reports what it adds on top of that.
 *
 * e2e/dashboard.spec.ts checks in Chromium that /app/inbox requests exactly the entry's files.
 */
import fs from "node:fs";
import path from "node:path";
import { DASHBOARD_DIST, ensureDashboardBuilt } from "../../apps/dashboard/build.ts";
import { startHugo } from "./hugo.ts";
import type { BenchOptions } from "./options.ts";
import { type AssetSize, fetchAsset } from "./widget.ts";

/** Budget of issue 7 item 8. */
export const INBOX_JS_GZ_LIMIT = 300 * 1024;
/** The inbox page's module, once it is a lazy chunk of its own. */
const INBOX_SOURCE = "src/pages/inbox.tsx";

export interface ChunkGroup {
  /** The route's source module ("index.html" for the entry). */
  name: string;
  files: AssetSize[];
  bytes: number;
  gzip: number;
}

export interface DashboardResults {
  /** "built": dist was missing or older than its sources, so the phase built it first. */
  build?: "fresh" | "built";
  inbox?: ChunkGroup;
  /** Stylesheets the inbox route loads (not in the JS budget). */
  css?: ChunkGroup;
  /** Each lazy route: only the JS it adds to what the inbox route already loaded. */
  lazy?: ChunkGroup[];
}

interface ManifestChunk {
  file: string;
  src?: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}
export type Manifest = Record<string, ManifestChunk>;

/** A chunk's file and the files of every chunk it imports statically (what loading it loads). */
export function closure(manifest: Manifest, key: string, seen = new Set<string>()): Set<string> {
  const chunk = manifest[key];
  if (!chunk || seen.has(key)) return new Set();
  seen.add(key);
  const files = new Set([chunk.file]);
  for (const imported of chunk.imports ?? []) for (const f of closure(manifest, imported, seen)) files.add(f);
  return files;
}

/** The inbox route's JS and CSS files, and each lazy route's added JS files, from the manifest. */
export function routeFiles(manifest: Manifest): {
  inbox: string[];
  css: string[];
  lazy: { name: string; files: string[] }[];
} {
  const entry = Object.keys(manifest).find((k) => manifest[k]!.isEntry);
  if (!entry) throw new Error("the dashboard's manifest has no entry chunk");
  const inbox = closure(manifest, entry);
  if (manifest[INBOX_SOURCE]) for (const f of closure(manifest, INBOX_SOURCE)) inbox.add(f);
  const css = [
    ...new Set([...inbox].flatMap((file) => Object.values(manifest).find((c) => c.file === file)?.css ?? [])),
  ];
  const lazy = Object.entries(manifest)
    .filter(([k, c]) => c.isDynamicEntry && k !== INBOX_SOURCE)
    .map(([k]) => ({ name: k, files: [...closure(manifest, k)].filter((f) => !inbox.has(f)) }));
  return { inbox: [...inbox], css, lazy };
}

export async function runDashboardBench(options: BenchOptions): Promise<DashboardResults> {
  const log = options.log;
  const results: DashboardResults = {};
  results.build = await ensureDashboardBuilt();
  const manifest = JSON.parse(
    fs.readFileSync(path.join(DASHBOARD_DIST, ".vite", "manifest.json"), "utf8"),
  ) as Manifest;
  const routes = routeFiles(manifest);
  const hugo = await startHugo({ main: options.hugoMain });
  try {
    const base = `http://127.0.0.1:${hugo.proc.port}`;
    const group = async (name: string, files: string[]): Promise<ChunkGroup> => {
      const sizes = await Promise.all(files.map(async (f) => (await fetchAsset(base, `/app/${f}`)).size));
      return {
        name,
        files: sizes,
        bytes: sizes.reduce((n, s) => n + s.bytes, 0),
        gzip: sizes.reduce((n, s) => n + s.gzip, 0),
      };
    };
    results.inbox = await group("inbox route (/app/)", routes.inbox);
    results.css = await group("inbox route CSS", routes.css);
    results.lazy = await Promise.all(routes.lazy.map((r) => group(r.name, r.files)));
    log(
      `dashboard: inbox route ${results.inbox.files.length} JS file(s), ${(results.inbox.gzip / 1024).toFixed(1)} KB gz; ` +
        results.lazy.map((l) => `${l.name} +${(l.gzip / 1024).toFixed(1)} KB`).join(", "),
    );
    return results;
  } finally {
    await hugo.proc.stop();
  }
}
