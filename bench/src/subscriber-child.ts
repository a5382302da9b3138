/**
 * Holds thousands of idle subscribed sockets in a process of its own, so their client-side memory
 * and file descriptors are neither the server's nor the bench's. Driven over IPC by `idleSockets`.
 */
import { openSubscribers, type SubscribeOptions } from "./subscribers.ts";

process.once("message", async (raw: unknown) => {
  const options = raw as Omit<SubscribeOptions, "onFrame">;
  const subs = await openSubscribers(options);
  process.send?.({
    bench: "subscribed",
    ok: subs.ok,
    failed: subs.failed,
    firstError: subs.firstError,
    ms: subs.ms,
  });
  process.once("message", async () => {
    await subs.close();
    process.send?.({ bench: "closed" }, () => process.exit(0));
  });
});
process.send?.({ bench: "ready", port: 0 });
