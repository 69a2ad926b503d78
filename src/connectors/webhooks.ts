/**
 * Live connectors: one per platform, each turning a verified webhook body into canonical events.
 * The server (src/server/ingest.ts) knows nothing of platforms; it asks the connector of the
 * source's platform to verify the request, then to parse it, and stores what comes out.
 */
import type { CanonicalEventInput } from '../model/events.ts';
import { genericWebhook } from './generic/webhook.ts';
import { telegramWebhook } from './telegram/webhook.ts';

export interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The body exactly as received: signatures are computed over these bytes. */
  body: Buffer;
  query: Record<string, string | undefined>;
}

/** What came out of one body: events, and the parts that are not events, with the reason why. */
export interface WebhookParse {
  events: CanonicalEventInput[];
  /** `at` names the part of the body (a JSON path such as `events[3]`, or the update's kind). */
  rejects: { at: string; reason: string; raw?: unknown }[];
}

export interface WebhookConnector {
  platform: string;
  label: { zh: string; en: string };
  /** How the sender proves itself, for `sources add` and the docs. */
  verification: string;
  /** null when the request is authentic; otherwise why not (the request gets 401). */
  verify(req: WebhookRequest, secret: string | null): string | null;
  /** The body, already verified. Never throws: anything unexpected is a reject. */
  parse(body: unknown): WebhookParse;
}

export const WEBHOOK_CONNECTORS: Record<string, WebhookConnector> = {
  generic: genericWebhook,
  telegram: telegramWebhook,
};

export function webhookConnector(platform: string): WebhookConnector | undefined {
  return Object.hasOwn(WEBHOOK_CONNECTORS, platform) ? WEBHOOK_CONNECTORS[platform] : undefined;
}
