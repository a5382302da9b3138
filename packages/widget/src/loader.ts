/**
 * `l.js`: the only script a website includes. Kept tiny: it finds the origin it was served from
 * and adds the widget bundle from there. The bundle reads the CRISP_* globals and replaces the
 * `$crisp` queue; commands pushed meanwhile wait in the array and run, in order, once it loads.
 */
declare const __HUGO_WIDGET_PATH__: string;

(() => {
  const w = window as unknown as { $crisp?: unknown; __hugoLoader?: boolean };
  // The snippet may be included twice (a tag manager and the page): load once.
  if (w.__hugoLoader) return;
  w.__hugoLoader = true;
  if (!Array.isArray(w.$crisp) && typeof w.$crisp !== "object") w.$crisp = [];
  const self =
    (document.currentScript as HTMLScriptElement | null) ??
    Array.from(document.getElementsByTagName("script")).find((s) => /\/l(\/[^/]+)?\.js(\?|$)/.test(s.src));
  const origin = self?.src ? new URL(self.src, location.href).origin : location.origin;
  const script = document.createElement("script");
  script.src = origin + __HUGO_WIDGET_PATH__;
  script.async = true;
  script.dataset.hugoOrigin = origin;
  (document.head ?? document.documentElement).appendChild(script);
})();
