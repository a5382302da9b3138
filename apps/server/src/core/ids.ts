import { randomInt, randomUUID } from "node:crypto";

export const newSessionId = (): string => `session_${randomUUID()}`;
export const newUuid = (): string => randomUUID();

/**
 * Crisp fingerprints are integers; Hugo's are `ms × 1000 + random(0..999)`: roughly time-ordered,
 * below 2^53 until the year 2255, and unlikely to collide within one conversation.
 */
export const newFingerprint = (now: number = Date.now()): number => now * 1000 + randomInt(1000);
