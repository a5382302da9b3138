import { CrispRuntime } from "./runtime.ts";
import { mountUi } from "./ui.ts";

/**
 * The widget bundle's entry: reads the loader globals, replaces the `$crisp` queue with the runtime
 * (so `get`/`is` answer synchronously from now on), replays the queued commands in order, mounts the
 * UI and opens the session.
 */
type Globals = {
  $crisp?: unknown;
  CRISP_WEBSITE_ID?: unknown;
  CRISP_TOKEN_ID?: unknown;
  CRISP_RUNTIME_CONFIG?: unknown;
  CRISP_COOKIE_DOMAIN?: unknown;
  CRISP_COOKIE_EXPIRE?: unknown;
  CRISP_READY_TRIGGER?: unknown;
  __hugoWidget?: CrispRuntime;
};

function boot(): void {
  const w = window as unknown as Globals;
  if (w.__hugoWidget) return;
  const websiteId = w.CRISP_WEBSITE_ID;
  if (typeof websiteId !== "string" || websiteId === "") {
    console.warn('[Hugo] set window.CRISP_WEBSITE_ID = "<your website id>" before loading l.js.');
    return;
  }
  const self = document.currentScript as HTMLScriptElement | null;
  const origin = self?.dataset.hugoOrigin ?? (self?.src ? new URL(self.src).origin : location.origin);
  const expire = Number(w.CRISP_COOKIE_EXPIRE);
  const runtime = new CrispRuntime({
    origin,
    websiteId,
    tokenId: () => {
      const id = w.CRISP_TOKEN_ID;
      return (typeof id === "string" && id.trim() !== "") || typeof id === "number" ? String(id) : undefined;
    },
    runtimeConfig:
      w.CRISP_RUNTIME_CONFIG && typeof w.CRISP_RUNTIME_CONFIG === "object"
        ? (w.CRISP_RUNTIME_CONFIG as Record<string, unknown>)
        : {},
    cookieDomain: typeof w.CRISP_COOKIE_DOMAIN === "string" ? w.CRISP_COOKIE_DOMAIN : undefined,
    cookieExpire: Number.isFinite(expire) && expire > 0 ? expire : undefined,
    readyTrigger:
      typeof w.CRISP_READY_TRIGGER === "function" ? (w.CRISP_READY_TRIGGER as () => void) : undefined,
  });
  w.__hugoWidget = runtime;
  const queued = Array.isArray(w.$crisp) ? [...(w.$crisp as unknown[])] : [];
  w.$crisp = runtime.facade();
  if (runtime.options.runtimeConfig.lock_maximized === true) runtime.opened = true;
  runtime.replay(queued);
  const start = () => {
    mountUi(runtime);
    void runtime.load().then(() => {
      const ready = runtime.options.readyTrigger;
      if (ready) {
        try {
          ready();
        } catch (error) {
          console.error("[Hugo] CRISP_READY_TRIGGER threw:", error);
        }
      }
    });
  };
  if (document.documentElement) start();
  else document.addEventListener("DOMContentLoaded", start, { once: true });
}

boot();
