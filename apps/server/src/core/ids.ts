import { randomInt, randomUUID } from "node:crypto";

export const newSessionId = (): string => `session_${randomUUID()}`;
export const newUuid = (): string => randomUUID();

let lastFingerprint = 0;

/**
 * Crisp fingerprints are integers. Hugo's are `ms × 1000 + n`: time-ordered, strictly increasing
 * within a process, below 2^53 until the year 2255. Each millisecond starts at a random `n` below
 * 500 so two processes rarely pick the same one; a collision is retried by the caller.
 */
export function newFingerprint(now: number = Date.now()): number {
  lastFingerprint = Math.max(now * 1000 + randomInt(500), lastFingerprint + 1);
  return lastFingerprint;
}
