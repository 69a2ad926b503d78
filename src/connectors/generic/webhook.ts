/**
 * The generic source: canonical events posted by any system (a CRM, a script, another CS tool),
 * one event, an array of events, or `{"events": [...]}`, signed with HMAC-SHA256 of the raw body:
 * `X-CSPulse-Signature: sha256=<hex>`.
 */
import { type CanonicalEventInput, EVENT_KINDS } from '../../model/events.ts';
import { header, hmacSha256Hex, sameSecret } from '../shared/signatures.ts';
import type { WebhookConnector, WebhookParse } from '../webhooks.ts';

export const SIGNATURE_HEADER = 'x-cspulse-signature';

export const genericWebhook: WebhookConnector = {
  platform: 'generic',
  label: { zh: '通用(标准事件 JSON)', en: 'generic (canonical event JSON)' },
  verification: 'X-CSPulse-Signature: sha256=HMAC-SHA256(secret, raw body) in hex',
  verify(req, { secret }) {
    if (!secret) return 'the source has no secret; generic sources must be signed';
    const given = header(req.headers, SIGNATURE_HEADER);
    if (!given) return `missing ${SIGNATURE_HEADER} header`;
    if (!sameSecret(given, `sha256=${hmacSha256Hex(secret, req.body)}`))
      return `${SIGNATURE_HEADER} does not match`;
    return null;
  },
  // In a file: canonical events as a JSON array or `{"events": [...]}` (one per line is NDJSON).
  detect: (doc) => {
    const first = Array.isArray(doc) ? doc[0] : ((doc as { events?: unknown[] } | null)?.events?.[0] ?? doc);
    return isCanonical(first);
  },
  parse(body): WebhookParse {
    const list = Array.isArray(body)
      ? body
      : body && typeof body === 'object' && Array.isArray((body as { events?: unknown }).events)
        ? (body as { events: unknown[] }).events
        : [body];
    // Validation (and its wording) is the ingest's, as for an NDJSON file.
    return { events: list as CanonicalEventInput[], rejects: [] };
  },
};

function isCanonical(v: unknown): boolean {
  const kind = (v as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' && EVENT_KINDS.includes(kind) && 'ts' in (v as object);
}
