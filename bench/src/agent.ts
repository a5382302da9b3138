/**
 * Preloaded (`node --expose-gc --import agent.ts …`) into every server the bench starts, Hugo
 * included, so the parent can ask over IPC for a full GC and a memory snapshot. Hugo's own code is
 * untouched: it still runs `main.ts serve` exactly as in production.
 */

interface MemRequest {
  bench: "mem";
  id: number;
  gc: boolean;
}

const gc = (globalThis as { gc?: (options?: unknown) => unknown }).gc;

if (process.send) {
  process.on("message", (raw: unknown) => {
    const msg = raw as Partial<MemRequest> | null;
    if (msg?.bench !== "mem") return;
    void (async () => {
      if (msg.gc && gc) {
        // Two rounds with a turn in between: weak callbacks and finalizers get to run.
        gc();
        await new Promise((r) => setTimeout(r, 50));
        gc();
        await new Promise((r) => setTimeout(r, 50));
      }
      const m = process.memoryUsage();
      process.send?.({
        bench: "mem",
        id: msg.id,
        gcAvailable: Boolean(gc),
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      });
    })();
  });
}
