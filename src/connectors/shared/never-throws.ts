import type { WebhookParse } from '../webhooks.ts';

/**
 * A connector's parse that cannot fail a request: parsers are written not to throw, and a bug that
 * still does becomes a reject naming the platform, never a 500 that makes the platform retry forever.
 */
export function neverThrows(
  platform: string,
  parseInto: (body: unknown, out: WebhookParse) => void,
): (body: unknown) => WebhookParse {
  return (body) => {
    const out: WebhookParse = { events: [], rejects: [] };
    try {
      parseInto(body, out);
    } catch (e) {
      out.rejects.push({
        at: 'payload',
        reason: `unreadable ${platform} payload: ${(e as Error).message}`,
        raw: body,
      });
    }
    return out;
  };
}
