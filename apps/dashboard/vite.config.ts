import fs from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/**
 * Writes `.gz` and `.br` beside every text file of the build: Hugo serves them as they are
 * (@fastify/static `preCompressed`), so the server compresses nothing per request.
 */
function precompress(): Plugin {
  let outDir = "";
  return {
    name: "hugo-precompress",
    apply: "build",
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    writeBundle() {
      const walk = (dir: string): string[] =>
        fs
          .readdirSync(dir, { withFileTypes: true })
          .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
      for (const file of walk(outDir)) {
        if (!/\.(js|css|html|svg|json)$/.test(file) || file.includes(`${path.sep}.vite${path.sep}`)) continue;
        const body = fs.readFileSync(file);
        if (body.length < 1024) continue;
        fs.writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
        fs.writeFileSync(
          `${file}.br`,
          brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

// `npm run dev -w @hugo/dashboard`: Vite on :5173 with the API proxied to a Hugo on :8080 (`npm start`).
const hugo = process.env.HUGO_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  root: import.meta.dirname,
  base: "/app/",
  plugins: [react(), precompress()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // bench/src/dashboard.ts reads the chunk graph from it: which files the inbox route loads.
    manifest: true,
    target: "es2022",
    reportCompressedSize: false,
  },
  server: {
    proxy: { "/api": { target: hugo, ws: true } },
  },
});
