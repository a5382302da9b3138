import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/** The dashboard bundles the client for browsers: it must carry no zod and no schema, only fetch logic. */
describe("the client's browser bundle", () => {
  it("holds no zod and no protocol module, and stays small", async () => {
    const result = await build({
      entryPoints: [path.join(import.meta.dirname, "index.ts")],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      target: ["es2022", "chrome100", "firefox100", "safari15.4"],
      minify: true,
      legalComments: "none",
      metafile: true,
      absWorkingDir: path.join(import.meta.dirname, "../../.."),
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((file) => /zod|protocol/.test(file))).toEqual([]);
    expect(inputs.every((file) => file.startsWith("packages/client/src/"))).toBe(true);
    const code = result.outputFiles[0]!.text;
    expect(code).not.toMatch(/zod/i);
    expect(code).not.toMatch(/\brequire\(|node:/);
    const gzipped = gzipSync(code).length;
    console.info(`@hugo/client browser bundle: ${code.length} B minified, ${gzipped} B gzipped`);
    expect(gzipped).toBeLessThan(6 * 1024);
  });
});
