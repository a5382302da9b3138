import type { CreatedWebhook, Webhook, WebhookCreate } from "@hugo/protocol";
import { hmacHex, randomHex, seal, unseal } from "./crypto.ts";
import { AppError } from "./errors.ts";
import { newUuid } from "./ids.ts";
import type { ConversationEvent, Stores, WebhookRecord } from "./ports.ts";

/** Outbound HTTP as web hooks need it; the server wires the SSRF-guarded implementation. */
export interface WebhookTransport {
  /** Throws AppError("url_not_allowed") for a URL Hugo must not call. */
  check(url: string): Promise<void>;
  post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number }>;
}

const SEAL_PURPOSE = "webhook-secret";
const PAGE = 200;

const toWebhook = ({ secret_sealed: _, website_id: __, ...rest }: WebhookRecord): Webhook => rest;

/** Crisp's signature (contract §4): hex HMAC-SHA256(secret, "[" + timestamp + ";" + body + "]"). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return hmacHex(secret, `[${timestamp};${body}]`);
}

/**
 * Web hooks (contract §4). Each hook follows the website's event log with its own cursor, so
 * delivery needs no per-event bookkeeping: the dispatcher posts events after the cursor in order and
 * moves the cursor after each success. Delivery is at least once (a crash between a POST and the
 * cursor write repeats that POST); receivers dedupe on `X-Hugo-Event-Id` (the event's website_seq).
 */
export class WebhookService {
  readonly #stores: Stores;
  readonly #transport: WebhookTransport;
  readonly #secret: string;
  readonly #onChange: () => void;

  /** `onChange` hears of hooks added or removed here (delivery wakes at once for a new hook's website). */
  constructor(
    stores: Stores,
    transport: WebhookTransport,
    serverSecret: string,
    onChange: () => void = () => {},
  ) {
    this.#stores = stores;
    this.#transport = transport;
    this.#secret = serverSecret;
    this.#onChange = onChange;
  }

  async create(websiteId: string, input: WebhookCreate): Promise<CreatedWebhook> {
    await this.#transport.check(input.url);
    const secret = randomHex(32);
    const record: WebhookRecord = {
      id: newUuid(),
      website_id: websiteId,
      url: input.url,
      secret_sealed: seal(this.#secret, SEAL_PURPOSE, secret),
      events: [...new Set(input.events ?? ["*"])],
      created_at: Date.now(),
      // Deliveries start with the events that follow the hook's creation.
      delivered_seq: (await this.#stores.conversations.lastSeq(websiteId)) ?? 0,
      last_error: null,
      last_attempt_at: null,
    };
    await this.#stores.webhooks.create(record);
    this.#onChange();
    return { ...toWebhook(record), secret };
  }

  async list(websiteId: string): Promise<Webhook[]> {
    return (await this.#stores.webhooks.list(websiteId)).map(toWebhook);
  }

  async remove(websiteId: string, id: string): Promise<void> {
    if (!(await this.#stores.webhooks.remove(websiteId, id)))
      throw new AppError("webhook_not_found", `No web hook ${id}.`);
    this.#onChange();
  }

  websitesWithHooks(): Promise<string[]> {
    return this.#stores.webhooks.websitesWithHooks();
  }

  /** Delivers every pending event of every hook of the website; throws (to be retried) on the first failure. */
  async dispatch(websiteId: string): Promise<void> {
    const failures: string[] = [];
    for (const hook of await this.#stores.webhooks.list(websiteId)) {
      const error = await this.#deliverPending(hook);
      if (error) failures.push(`${hook.url}: ${error}`);
    }
    if (failures.length > 0) throw new Error(`web hook delivery failed: ${failures.join("; ")}`);
  }

  async #deliverPending(hook: WebhookRecord): Promise<string | null> {
    const secret = unseal(this.#secret, SEAL_PURPOSE, hook.secret_sealed);
    let cursor = hook.delivered_seq;
    for (;;) {
      const events = await this.#stores.conversations.readEvents(hook.website_id, {
        after: cursor,
        limit: PAGE,
      });
      if (events.length === 0) break;
      for (const event of events) {
        if (wants(hook, event)) {
          const error = await this.#post(hook, secret, event);
          if (error) {
            await this.#stores.webhooks.recordAttempt(hook.id, cursor, error, Date.now());
            return error;
          }
        }
        cursor = event.website_seq;
      }
      await this.#stores.webhooks.recordAttempt(hook.id, cursor, null, Date.now());
      if (events.length < PAGE) break;
    }
    return null;
  }

  async #post(hook: WebhookRecord, secret: string, event: ConversationEvent): Promise<string | null> {
    const body = JSON.stringify({
      website_id: event.website_id,
      event: event.name,
      data: event.data,
      timestamp: event.created_at,
    });
    const timestamp = Date.now();
    try {
      const { status } = await this.#transport.post(
        hook.url,
        {
          "content-type": "application/json",
          "user-agent": "Hugo-Webhooks/1",
          "x-crisp-request-timestamp": String(timestamp),
          "x-crisp-signature": signWebhook(secret, timestamp, body),
          "x-hugo-event-id": String(event.website_seq),
        },
        body,
      );
      return status >= 200 && status < 300 ? null : `HTTP ${status}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}

function wants(hook: WebhookRecord, event: ConversationEvent): boolean {
  return hook.events.includes("*") || hook.events.includes(event.name);
}
