import { z } from "zod";

const UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";

export const UUID_RE = new RegExp(`^${UUID}$`);
export const SESSION_ID_RE = new RegExp(`^session_${UUID}$`);
export const SCENARIO_ID_RE = new RegExp(`^scenario_${UUID}$`);

export const WebsiteId = z.string().regex(UUID_RE, "must be a UUID");
export const SessionId = z.string().regex(SESSION_ID_RE, "must be session_<uuid>");
export const ScenarioId = z.string().regex(SCENARIO_ID_RE, "must be scenario_<uuid>");
export const OperatorId = z.string().regex(UUID_RE, "must be a UUID");
export const TokenId = z.string().regex(UUID_RE, "must be a UUID");

/** Crisp message fingerprints are positive integers (ms-resolution in practice). */
export const Fingerprint = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const SOURCE_ID_RE = new RegExp(`^source_${UUID}$`);
/** A knowledge source: `source_<uuid>`. */
export const SourceId = z.string().regex(SOURCE_ID_RE, "must be source_<uuid>");

export const TURN_ID_RE = new RegExp(`^turn_${UUID}$`);
/** One turn of the AI agent in a conversation: `turn_<uuid>`. */
export const TurnId = z.string().regex(TURN_ID_RE, "must be turn_<uuid>");
