import type { FastifyBaseLogger } from "fastify";

/** The slice of the app's logger realtime uses. */
export type RealtimeLog = Pick<FastifyBaseLogger, "debug" | "info" | "warn" | "error">;

const noop = () => {};
export const silentLog: RealtimeLog = { debug: noop, info: noop, warn: noop, error: noop };
