import { createHash } from "node:crypto";
import path from "node:path";
import { build } from "esbuild";

/** One served file: its text and its strong ETag. */
export interface WidgetAsset {
  body: string;
  etag: string;
}

/** The browser files Hugo serves: the loader (`/l.js`) and the widget bundle it loads. */
export interface WidgetAssets {
  loader: WidgetAsset;
  widget: WidgetAsset;
  /** Where the loader fetches the widget: `/widget/<hash>.js` (immutable). */
  widgetPath: string;
  /** `/l/{website_id}.js`: the loader with CRISP_WEBSITE_ID preset (the page's global still wins). */
  loaderFor(websiteId: string): WidgetAsset;
}

const etagOf = (body: string) => `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
const asset = (body: string): WidgetAsset => ({ body, etag: etagOf(body) });

async function bundle(entry: string, define: Record<string, string> = {}): Promise<string> {
  const result = await build({
    entryPoints: [path.join(import.meta.dirname, entry)],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    // Browsers of the last ~4 years: native classes with private fields, no down-levelling.
    target: ["es2022", "chrome100", "firefox100", "safari15.4"],
    minify: true,
    legalComments: "none",
    define,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

/**
 * Builds the loader and the widget in memory with esbuild (~100 ms): Hugo serves them without a
 * build step at install. Example: `const assets = await buildWidgetAssets()`.
 */
export async function buildWidgetAssets(): Promise<WidgetAssets> {
  const widget = asset(await bundle("widget.ts"));
  const widgetPath = `/widget/${widget.etag.slice(1, 17)}.js`;
  const loader = asset(await bundle("loader.ts", { __HUGO_WIDGET_PATH__: JSON.stringify(widgetPath) }));
  const perWebsite = new Map<string, WidgetAsset>();
  return {
    loader,
    widget,
    widgetPath,
    loaderFor(websiteId) {
      let found = perWebsite.get(websiteId);
      if (!found) {
        found = asset(
          `window.CRISP_WEBSITE_ID=window.CRISP_WEBSITE_ID||${JSON.stringify(websiteId)};${loader.body}`,
        );
        if (perWebsite.size > 1000) perWebsite.clear();
        perWebsite.set(websiteId, found);
      }
      return found;
    },
  };
}
